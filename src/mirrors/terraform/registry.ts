/**
 * Cached access to an upstream Terraform registry: discovery, provider
 * versions, per-platform download answers and signed SHA256SUMS bundles.
 * Each is a metadata route run through the cache engine, so every caller
 * gets single-flight loads, freshness and stale-if-error for free.
 */
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { CacheResult, MetadataResult } from '../../core/route.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { hostKey, providerKey } from './names.js';
import { parseDownload, parseDiscovery, parseVersions, type DownloadInfo, type Discovery, type ProviderVersions } from './registry-json.js';
import { loadShasumsBundle, type ShasumsBundle } from './shasums-bundle.js';
import type { RegistryUpstream } from './upstreams.js';

/** Freshness settings for registry metadata. */
export interface RegistryTiming {
  ttlMs: number;
  staleIfErrorMs: number;
  maxMetadataBytes: number;
}

/** A parsed value and how the cache produced it. */
export interface Cached<T> {
  value: T;
  result: CacheResult;
}

/** Cached, verified registry reads. */
export interface RegistryReader {
  discovery(up: RegistryUpstream): Promise<Cached<Discovery>>;
  versions(up: RegistryUpstream, ns: string, type: string): Promise<Cached<ProviderVersions>>;
  download(up: RegistryUpstream, ns: string, type: string, version: string, os: string, arch: string): Promise<Cached<DownloadInfo>>;
  shasums(up: RegistryUpstream, ns: string, type: string, version: string, from: DownloadInfo): Promise<Cached<ShasumsBundle>>;
}

/** Combines cache results of the parts of a composed answer. */
export function combineResults(results: CacheResult[]): CacheResult {
  if (results.includes('miss')) return 'miss';
  if (results.includes('stale')) return 'stale';
  return 'hit';
}

const JSON_TYPE = 'application/json';

/** Creates the registry reader over the cache engine and upstream client. */
export function createRegistryReader(cache: Cache, client: UpstreamClient, timing: RegistryTiming): RegistryReader {
  const auth = (up: RegistryUpstream): { authorization?: string } => (up.token ? { authorization: `Bearer ${up.token}` } : {});

  const parsed = <T>(r: MetadataResult, parse: (v: unknown) => T): Cached<T> => ({
    value: parse(JSON.parse(r.body.toString('utf8')) as unknown),
    result: r.result,
  });

  const jsonRoute = (key: string, url: () => Promise<string>, up: RegistryUpstream, normalize: (json: unknown, finalUrl: string) => unknown, ttlMs = timing.ttlMs) => ({
    kind: 'metadata' as const,
    key,
    ttlMs,
    staleIfErrorMs: timing.staleIfErrorMs,
    async load(signal: AbortSignal) {
      const r = await client.json(await url(), timing.maxMetadataBytes, { signal, ...auth(up) });
      return { body: Buffer.from(JSON.stringify(normalize(r.json, r.finalUrl))), contentType: JSON_TYPE };
    },
  });

  async function discovery(up: RegistryUpstream): Promise<Cached<Discovery>> {
    const route = jsonRoute(`tf/discovery/${hostKey(up.host)}`, () => Promise.resolve(`${up.discoveryBase}/.well-known/terraform.json`), up, parseDiscovery);
    return parsed(await cache.metadata(route), (v) => v as Discovery);
  }

  async function providersBase(up: RegistryUpstream): Promise<string> {
    const d = (await discovery(up)).value;
    if (!d.providers) throw new RegcacheError('ERR_UPSTREAM_NOT_FOUND', `registry ${up.host} offers no providers.v1 service`);
    return d.providers;
  }

  return {
    discovery,

    async versions(up, ns, type) {
      const route = jsonRoute(`${providerKey(up.host, ns, type)}/versions`, async () => `${await providersBase(up)}${ns}/${type}/versions`, up, parseVersions);
      return parsed(await cache.metadata(route), (v) => v as ProviderVersions);
    },

    async download(up, ns, type, version, os, arch) {
      const route = jsonRoute(
        `${providerKey(up.host, ns, type)}/${version}/download/${os}_${arch}`,
        async () => `${await providersBase(up)}${ns}/${type}/${version}/download/${os}/${arch}`,
        up,
        parseDownload,
      );
      return parsed(await cache.metadata(route), (v) => v as DownloadInfo);
    },

    async shasums(up, ns, type, version, from) {
      const route = {
        kind: 'metadata' as const,
        key: `${providerKey(up.host, ns, type)}/${version}/shasums`,
        ttlMs: Number.POSITIVE_INFINITY,
        staleIfErrorMs: 0,
        async load(signal: AbortSignal) {
          const bundle = await loadShasumsBundle(client, from, up.allowUnsigned, signal);
          return { body: Buffer.from(JSON.stringify(bundle)), contentType: JSON_TYPE };
        },
      };
      return parsed(await cache.metadata(route), (v) => v as ShasumsBundle);
    },
  };
}
