/**
 * Cached access to an upstream Terraform registry: discovery, provider
 * versions, per-platform download answers and signed SHA256SUMS bundles.
 * Each is a metadata route run through the cache engine, so every caller
 * gets single-flight loads, freshness and stale-if-error for free. Reads in
 * a provider's or module's scope go through the shared access layer
 * (src/access/): loads fall back to the client's credential only when
 * anonymous access is refused, every answer in a private scope is guarded,
 * and everything stored for a private scope carries its privacy.
 */
import type { Access } from '../../access/access.js';
import type { Credential } from '../../access/credential.js';
import type { UpstreamAuth } from '../../access/scoped-read.js';
import { privateAttrs } from '../../access/scope-privacy.js';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { CacheResult, LoadedMetadata } from '../../core/route.js';
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

/** A parsed value, how the cache produced it, and whether it belongs to a private scope. */
export interface Cached<T> {
  value: T;
  result: CacheResult;
  private: boolean;
}

/** One read in a provider's or module's scope (see `RegistryReader.scoped`). */
export interface ScopedRegistryRead {
  up: RegistryUpstream;
  scope: string;
  key: string;
  cred: Credential;
  /** The upstream answer made with `auth`. */
  fetch: (auth: UpstreamAuth, signal: AbortSignal) => Promise<LoadedMetadata>;
  /** A URL of the scope upstream answers only to clients that may see it (credential checks). */
  checkUrl: () => Promise<string>;
  ttlMs?: number;
}

/** Cached, verified registry reads. */
export interface RegistryReader {
  discovery(up: RegistryUpstream): Promise<Cached<Discovery>>;
  versions(up: RegistryUpstream, ns: string, type: string, cred: Credential): Promise<Cached<ProviderVersions>>;
  download(up: RegistryUpstream, ns: string, type: string, version: string, os: string, arch: string, cred: Credential): Promise<Cached<DownloadInfo>>;
  /** The verified SHA256SUMS named by `from` (a download answer of the same scope, `private` as it was). */
  shasums(up: RegistryUpstream, ns: string, type: string, version: string, from: Cached<DownloadInfo>): Promise<Cached<ShasumsBundle>>;
  /** A metadata read in a scope that may be private, through the access layer (shared with modules). */
  scoped(r: ScopedRegistryRead): Promise<Cached<Buffer>>;
}
const parsedBodies = new WeakMap<Buffer, unknown>();

/**
 * Parses a cached metadata body once: the in-memory cache hands out the same
 * Buffer for every hit, so its parsed value is remembered beside it (and
 * dropped with it). Callers must treat the value as read-only.
 */
export function parseCachedJson(body: Buffer): unknown {
  if (parsedBodies.has(body)) return parsedBodies.get(body);
  const value = JSON.parse(body.toString('utf8')) as unknown;
  parsedBodies.set(body, value);
  return value;
}

/** Combines cache results of the parts of a composed answer. */
export function combineResults(results: CacheResult[]): CacheResult {
  if (results.includes('miss')) return 'miss';
  if (results.includes('stale')) return 'stale';
  return 'hit';
}

const JSON_TYPE = 'application/json';

/** Creates the registry reader over the cache engine and upstream client. */
export function createRegistryReader(cache: Cache, client: UpstreamClient, access: Access, timing: RegistryTiming): RegistryReader {
  const configured = (up: RegistryUpstream): UpstreamAuth => (up.token ? { authorization: `Bearer ${up.token}` } : {});

  async function scoped(r: ScopedRegistryRead): Promise<Cached<Buffer>> {
    const got = await access.read({
      scope: r.scope,
      key: r.key,
      ttlMs: r.ttlMs ?? timing.ttlMs,
      staleIfErrorMs: timing.staleIfErrorMs,
      cred: r.cred,
      own: configured(r.up),
      fetch: r.fetch,
      async check(credential) {
        const res = await client.open(await r.checkUrl(), { authorization: credential });
        res.body.destroy();
      },
    });
    return { value: got.result.body, result: got.result.result, private: got.private };
  }

  function apiRead(up: RegistryUpstream, scope: string, key: string, url: () => Promise<string>, checkUrl: () => Promise<string>, cred: Credential, normalize: (json: unknown, finalUrl: string) => unknown): Promise<Cached<Buffer>> {
    return scoped({
      up,
      scope,
      key,
      cred,
      checkUrl,
      async fetch(auth, signal) {
        const r = await client.json(await url(), timing.maxMetadataBytes, { signal, ...auth });
        return { body: Buffer.from(JSON.stringify(normalize(r.json, r.finalUrl))), contentType: JSON_TYPE };
      },
    });
  }

  const parse = <T>(body: Buffer): T => parseCachedJson(body) as T;
  const parsed = <T>(c: Cached<Buffer>): Cached<T> => ({ value: parse<T>(c.value), result: c.result, private: c.private });

  async function discovery(up: RegistryUpstream): Promise<Cached<Discovery>> {
    const r = await cache.metadata({
      kind: 'metadata',
      key: `tf/discovery/${hostKey(up.host)}`,
      ttlMs: timing.ttlMs,
      staleIfErrorMs: timing.staleIfErrorMs,
      async load(signal) {
        const d = await client.json(`${up.discoveryBase}/.well-known/terraform.json`, timing.maxMetadataBytes, { signal });
        return { body: Buffer.from(JSON.stringify(parseDiscovery(d.json, d.finalUrl))), contentType: JSON_TYPE };
      },
    });
    return { value: parse<Discovery>(r.body), result: r.result, private: false };
  }

  async function providersBase(up: RegistryUpstream): Promise<string> {
    const d = (await discovery(up)).value;
    if (!d.providers) throw new RegcacheError('ERR_UPSTREAM_NOT_FOUND', `registry ${up.host} offers no providers.v1 service`);
    return d.providers;
  }

  return {
    discovery,
    scoped,

    async versions(up, ns, type, cred) {
      const scope = providerKey(up.host, ns, type);
      const url = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/versions`;
      return parsed<ProviderVersions>(await apiRead(up, scope, `${scope}/versions`, url, url, cred, parseVersions));
    },

    async download(up, ns, type, version, os, arch, cred) {
      const scope = providerKey(up.host, ns, type);
      const url = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/${version}/download/${os}/${arch}`;
      const checkUrl = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/versions`;
      return parsed<DownloadInfo>(await apiRead(up, scope, `${scope}/${version}/download/${os}_${arch}`, url, checkUrl, cred, parseDownload));
    },

    async shasums(up, ns, type, version, from) {
      const scope = providerKey(up.host, ns, type);
      const r = await cache.metadata({
        kind: 'metadata',
        key: `${scope}/${version}/shasums`,
        ttlMs: Number.POSITIVE_INFINITY,
        staleIfErrorMs: 0,
        async load(signal) {
          const bundle = await loadShasumsBundle(client, from.value, up.allowUnsigned, signal);
          return { body: Buffer.from(JSON.stringify(bundle)), contentType: JSON_TYPE, ...(from.private ? { attrs: privateAttrs(scope) } : {}) };
        },
      });
      return { value: parse<ShasumsBundle>(r.body), result: r.result, private: from.private };
    },
  };
}
