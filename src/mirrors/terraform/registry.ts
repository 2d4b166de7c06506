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
import { expectedSha256, loadShasumsBundle, type ShasumsBundle } from './shasums-bundle.js';
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
  /**
   * The verified SHA256SUMS named by `from` (a download answer of the same
   * scope, `private` as it was). `cred` reads it when the registry serves
   * files behind the credential that reads its API (see fileAuth).
   */
  shasums(up: RegistryUpstream, ns: string, type: string, version: string, from: Cached<DownloadInfo>, cred?: Credential | UpstreamAuth): Promise<Cached<ShasumsBundle>>;
  /**
   * The Authorization to send with a file download (SHA256SUMS, zip): the
   * credential that reads the registry's API, but only when `url` is on the
   * registry API's own origin (scheme, host and port), as private
   * registries (Artifactory, Nexus, GitLab) serve files behind the same
   * credential. Never for any other host.
   */
  fileAuth(up: RegistryUpstream, cred: Credential | UpstreamAuth | undefined, url: string): Promise<UpstreamAuth>;
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

  /**
   * A registry API answer read through the access layer. `check` runs on the
   * parsed answer (with the credential that read it) before anything is
   * stored: an answer that fails it (inconsistent with signed data) is never
   * cached, so the next request asks upstream again.
   */
  function apiRead<T>(
    up: RegistryUpstream,
    scope: string,
    key: string,
    url: () => Promise<string>,
    checkUrl: () => Promise<string>,
    cred: Credential,
    normalize: (json: unknown, finalUrl: string) => T,
    check?: (value: T, auth: UpstreamAuth) => Promise<void>,
  ): Promise<Cached<Buffer>> {
    return scoped({
      up,
      scope,
      key,
      cred,
      checkUrl,
      async fetch(auth, signal) {
        const r = await client.json(await url(), timing.maxMetadataBytes, { signal, ...auth });
        const value = normalize(r.json, r.finalUrl);
        await check?.(value, auth);
        return { body: Buffer.from(JSON.stringify(value)), contentType: JSON_TYPE };
      },
    });
  }

  async function fileAuth(up: RegistryUpstream, cred: Credential | UpstreamAuth | undefined, url: string): Promise<UpstreamAuth> {
    const given = typeof cred === 'string' ? cred : typeof cred === 'object' ? cred.authorization : undefined;
    const authorization = given ?? configured(up).authorization;
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

  async function shasums(up: RegistryUpstream, ns: string, type: string, version: string, from: Cached<DownloadInfo>, cred?: Credential | UpstreamAuth): Promise<Cached<ShasumsBundle>> {
    const scope = providerKey(up.host, ns, type);
    const r = await cache.metadata({
      kind: 'metadata',
      key: `${scope}/${version}/shasums`,
      ttlMs: Number.POSITIVE_INFINITY,
      staleIfErrorMs: 0,
      class: 'artifact',
      async load(signal) {
        const bundle = await loadShasumsBundle(client, from.value, up.allowUnsigned, signal, (url) => fileAuth(up, cred, url));
        return { body: Buffer.from(JSON.stringify(bundle)), contentType: JSON_TYPE, ...(from.private ? { attrs: privateAttrs(scope) } : {}) };
      },
    });
    return { value: parse<ShasumsBundle>(r.body), result: r.result, private: from.private };
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
    fileAuth,
    shasums,

    async versions(up, ns, type, cred) {
      const scope = providerKey(up.host, ns, type);
      const url = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/versions`;
      return parsed<ProviderVersions>(await apiRead(up, scope, `${scope}/versions`, url, url, cred, parseVersions));
    },

    async download(up, ns, type, version, os, arch, cred) {
      const scope = providerKey(up.host, ns, type);
      const url = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/${version}/download/${os}/${arch}`;
      const checkUrl = async (): Promise<string> => `${await providersBase(up)}${ns}/${type}/versions`;
      // A download answer whose shasum disagrees with the signed SHA256SUMS is refused, not cached.
      const consistent = async (info: DownloadInfo, auth: UpstreamAuth): Promise<void> => {
        const isPrivate = auth.authorization !== configured(up).authorization;
        expectedSha256((await shasums(up, ns, type, version, { value: info, result: 'miss', private: isPrivate }, auth)).value, info);
      };
      return parsed<DownloadInfo>(await apiRead(up, scope, `${scope}/${version}/download/${os}_${arch}`, url, checkUrl, cred, parseDownload, consistent));
    },
  };
}
