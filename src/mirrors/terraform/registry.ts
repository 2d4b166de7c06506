/**
 * Cached access to an upstream Terraform registry: discovery, provider
 * versions, per-platform download answers and signed SHA256SUMS bundles.
 * Each is a metadata route run through the cache engine, so every caller
 * gets single-flight loads, freshness and stale-if-error for free. Private
 * scopes are handled by access.ts: loads fall back to the client's
 * credential only when anonymous access is refused, and every answer in a
 * private scope is guarded.
 */
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { CacheResult, MetadataRoute } from '../../core/route.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { isAuthRefusal, type Access } from './access.js';
import { hostKey, providerKey } from './names.js';
import { parseDownload, parseDiscovery, parseVersions, type DownloadInfo, type Discovery, type ProviderVersions } from './registry-json.js';
import { expectedSha256, loadShasumsBundle, type ShasumsBundle } from './shasums-bundle.js';
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

/** Stands for "authorized by a valid signed URL" (artifact requests carry no credential). */
export const SIGNED_URL = Symbol('signed-url');

/** The client's own credential (its Authorization header), if it sent one, or SIGNED_URL. */
export type Credential = string | undefined | typeof SIGNED_URL;

/** Cached, verified registry reads. */
export interface RegistryReader {
  discovery(up: RegistryUpstream): Promise<Cached<Discovery>>;
  versions(up: RegistryUpstream, ns: string, type: string, cred: Credential): Promise<Cached<ProviderVersions>>;
  download(up: RegistryUpstream, ns: string, type: string, version: string, os: string, arch: string, cred: Credential): Promise<Cached<DownloadInfo>>;
  shasums(up: RegistryUpstream, ns: string, type: string, version: string, from: DownloadInfo, cred: Credential): Promise<Cached<ShasumsBundle>>;
  /**
   * The Authorization to send with a file download (SHA256SUMS, zip): the
   * credential that reads the registry's API, but only when `url` is on the
   * registry API's own origin (scheme, host and port), as private
   * registries (Artifactory, Nexus, GitLab) serve files behind the same
   * credential. Never for any other host.
   */
  fileAuth(up: RegistryUpstream, cred: Credential, url: string): Promise<{ authorization?: string }>;
  /**
   * Runs `attempt` anonymously (or with the configured token); when refused and the
   * client sent a credential, again with it, marking `scope` private. Shared with modules.
   */
  withCredentialFallback<T>(up: RegistryUpstream, scope: string, cred: Credential, attempt: (auth: { authorization?: string }) => Promise<T>): Promise<T>;
  /** Throws unless `cred` may see the private `scope` (checked against `checkUrl`). */
  guard(up: RegistryUpstream, scope: string, cred: Credential, checkUrl: () => Promise<string>): Promise<void>;
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
  const configured = (up: RegistryUpstream): { authorization?: string } => (up.token ? { authorization: `Bearer ${up.token}` } : {});

  async function withCredentialFallback<T>(up: RegistryUpstream, scope: string, cred: Credential, attempt: (auth: { authorization?: string }) => Promise<T>): Promise<T> {
    try {
      return await attempt(configured(up));
    } catch (err) {
      if (typeof cred !== 'string' || !isAuthRefusal(err)) throw err;
    }
    if (typeof cred !== 'string') throw new RegcacheError('ERR_INTERNAL');
    const r = await attempt({ authorization: cred });
    await access.markPrivate(scope, cred);
    return r;
  }

  async function guard(up: RegistryUpstream, scope: string, cred: Credential, checkUrl: () => Promise<string>): Promise<void> {
    if (cred === SIGNED_URL) return;
    await access.guard(scope, cred, async (c) => {
      const res = await client.open(await checkUrl(), { authorization: c });
      res.body.destroy();
    });
  }

  /**
   * A registry API answer as a metadata route. `check` runs on the parsed
   * answer before anything is stored: an answer that fails it (inconsistent
   * with signed data) is never cached, so the next request asks upstream again.
   */
  function apiRoute<T>(up: RegistryUpstream, scope: string, key: string, url: () => Promise<string>, cred: Credential, normalize: (json: unknown, finalUrl: string) => T, check?: (value: T) => Promise<void>): MetadataRoute {
    return {
      kind: 'metadata',
      key,
      ttlMs: timing.ttlMs,
      staleIfErrorMs: timing.staleIfErrorMs,
      async load(signal) {
        const target = await url();
        const r = await withCredentialFallback(up, scope, cred, (a) => client.json(target, timing.maxMetadataBytes, { signal, ...a }));
        const value = normalize(r.json, r.finalUrl);
        await check?.(value);
        return { body: Buffer.from(JSON.stringify(value)), contentType: JSON_TYPE };
      },
    };
  }

  async function fileAuth(up: RegistryUpstream, cred: Credential, url: string): Promise<{ authorization?: string }> {
    const authorization = typeof cred === 'string' ? cred : configured(up).authorization;
    if (authorization === undefined) return {};
    const sameOrigin = (a: string, b: string): boolean => {
      try {
        return new URL(a).origin === new URL(b).origin;
      } catch {
        return false;
      }
    };
    return sameOrigin(url, await providersBase(up)) ? { authorization } : {};
  }

  async function shasums(up: RegistryUpstream, ns: string, type: string, version: string, from: DownloadInfo, cred: Credential): Promise<Cached<ShasumsBundle>> {
    const r = await cache.metadata({
      kind: 'metadata',
      key: `${providerKey(up.host, ns, type)}/${version}/shasums`,
      ttlMs: Number.POSITIVE_INFINITY,
      staleIfErrorMs: 0,
      async load(signal) {
        const bundle = await loadShasumsBundle(client, from, up.allowUnsigned, signal, (url) => fileAuth(up, cred, url));
        return { body: Buffer.from(JSON.stringify(bundle)), contentType: JSON_TYPE };
      },
    });
    return { value: parse<ShasumsBundle>(r.body), result: r.result };
  }

  const parse = <T>(body: Buffer): T => parseCachedJson(body) as T;

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
    return { value: parse<Discovery>(r.body), result: r.result };
  }

  async function providersBase(up: RegistryUpstream): Promise<string> {
    const d = (await discovery(up)).value;
    if (!d.providers) throw new RegcacheError('ERR_UPSTREAM_NOT_FOUND', `registry ${up.host} offers no providers.v1 service`);
    return d.providers;
  }

  return {
    discovery,
    withCredentialFallback,
    guard,
    fileAuth,
    shasums,

    async versions(up, ns, type, cred) {
      const scope = providerKey(up.host, ns, type);
      const url = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/versions`;
      const r = await cache.metadata(apiRoute(up, scope, `${scope}/versions`, url, cred, parseVersions));
      await guard(up, scope, cred, url);
      return { value: parse<ProviderVersions>(r.body), result: r.result };
    },

    async download(up, ns, type, version, os, arch, cred) {
      const scope = providerKey(up.host, ns, type);
      const url = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/${version}/download/${os}/${arch}`;
      // A download answer whose shasum disagrees with the signed SHA256SUMS is refused, not cached.
      const consistent = async (info: DownloadInfo): Promise<void> => {
        expectedSha256((await shasums(up, ns, type, version, info, cred)).value, info);
      };
      const r = await cache.metadata(apiRoute(up, scope, `${scope}/${version}/download/${os}_${arch}`, url, cred, parseDownload, consistent));
      await guard(up, scope, cred, async () => `${await providersBase(up)}${ns}/${type}/versions`);
      return { value: parse<DownloadInfo>(r.body), result: r.result };
    },

  };
}
