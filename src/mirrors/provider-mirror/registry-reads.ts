/**
 * The registry's metadata for one provider (its tag list, the manifest of
 * a version's tag, the per-platform manifests by digest), read through the
 * cache engine and the shared access layer (src/access/):
 *
 * - regcache asks first with its own access: the registry client of
 *   src/mirrors/oci/ runs the token flow anonymously (this mode has no
 *   configured credentials);
 * - only when that is refused and the client sent an Authorization is the
 *   client's header sent, as it is, to `origin_url` and nowhere else (no
 *   redirect carries it to another origin); the provider's scope is then
 *   private and everything of it stored is marked so.
 *
 * Tag lists and tag manifests are mutable (fresh for 10 minutes, served
 * stale for 7 days while the registry fails: the terraform mode's
 * defaults); manifests by digest are immutable and stored only when their
 * bytes hash to that digest. An answer that does not parse as a provider
 * is never stored.
 */
import { createHash } from 'node:crypto';
import type { Access } from '../../access/access.js';
import type { Credential } from '../../access/credential.js';
import type { UpstreamAuth } from '../../access/scoped-read.js';
import { RegcacheError } from '../../core/errors.js';
import type { CacheResult } from '../../core/route.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import { isTag } from '../oci/names.js';
import type { RegistryClient } from '../oci/registry-client.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, parseTargetManifest, parseVersionManifest, type Archive, type Target, type VersionDoc } from './layouts.js';
import { manifestKey, tagListKey, tagManifestKey, tagOf, versionOfTag, type ProviderAddr } from './names.js';
import { firstValue } from '../../upstream/response.js';

/** Tag lists and tag manifests are fresh this long (the terraform mode's `metadata.ttl` default). */
export const METADATA_TTL_MS = 10 * 60_000;
/** …and served stale this long while the registry fails (its `metadata.staleIfError` default). */
export const STALE_IF_ERROR_MS = 7 * 24 * 3600_000;
const MAX_TAG_PAGES = 20;
const MAX_TAG_LIST_BYTES = 4 * 1024 * 1024;

/** A parsed answer, how the cache produced it, and whether its scope is private. */
export interface Read<T> {
  value: T;
  result: CacheResult;
  private: boolean;
}

/** Cached registry reads of one instance. */
export interface ProviderReads {
  /** Every version the repository has a tag for. */
  versions(addr: ProviderAddr, cred: Credential): Promise<Read<string[]>>;
  /** The manifest a version's tag names. */
  version(addr: ProviderAddr, version: string, cred: Credential): Promise<Read<VersionDoc>>;
  /** One platform's manifest (OpenTofu's layout), by digest. */
  target(addr: ProviderAddr, target: Target, cred: Credential): Promise<Read<Archive>>;
}

/** What the reads are made of. */
export interface ProviderReadsDeps {
  registry: RegistryClient;
  client: UpstreamClient;
  access: Access;
}

const parsedBodies = new WeakMap<Buffer, unknown>();

/** Parses a cached body once (the memory tier hands out the same Buffer on every hit). */
function parsedOnce<T>(body: Buffer, parse: (b: Buffer) => T): T {
  if (parsedBodies.has(body)) return parsedBodies.get(body) as T;
  const value = parse(body);
  parsedBodies.set(body, value);
  return value;
}

function header(res: UpstreamResponse, name: string): string | undefined {
  return firstValue(res.headers[name]);
}

/** The `last` and `n` of a `Link: <…?last=x&n=y>; rel="next"` header, validated. */
function nextPage(res: UpstreamResponse): URLSearchParams | undefined {
  const link = header(res, 'link');
  const m = link === undefined ? null : /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  if (!m) return undefined;
  const url = new URL(m[1] ?? '', 'http://x');
  const last = url.searchParams.get('last');
  const n = url.searchParams.get('n');
  if (last === null || !isTag(last)) return undefined;
  const q = new URLSearchParams({ last });
  if (n !== null && /^\d{1,5}$/.test(n)) q.set('n', n);
  return q;
}

/** Creates the reads of one instance. */
export function createProviderReads(deps: ProviderReadsDeps): ProviderReads {
  const { registry, client, access } = deps;

  /** One registry request with `auth`: regcache's own (the token flow), or the client's header sent to origin_url only. */
  function open(addr: ProviderAddr, path: { tags: URLSearchParams } | { manifest: string }, auth: UpstreamAuth, signal: AbortSignal): Promise<UpstreamResponse> {
    if (auth.authorization === undefined) {
      return 'tags' in path ? registry.tags(addr.repo, path.tags, { signal }) : registry.manifest(addr.repo, path.manifest, { accept: MANIFEST_ACCEPT, signal });
    }
    const rest = 'tags' in path ? `tags/list${path.tags.size > 0 ? `?${path.tags.toString()}` : ''}` : `manifests/${path.manifest}`;
    return client.open(`${registry.base}/v2/${addr.repo}/${rest}`, { authorization: auth.authorization, accept: MANIFEST_ACCEPT, signal });
  }

  /** Asks the registry whether `credential` may read the repository (its tag list). */
  async function check(addr: ProviderAddr, credential: string): Promise<void> {
    const res = await client.open(`${registry.base}/v2/${addr.repo}/tags/list?n=1`, { authorization: credential });
    res.body.destroy();
  }

  async function scoped<T>(addr: ProviderAddr, key: string, ttlMs: number, cred: Credential, load: (auth: UpstreamAuth, signal: AbortSignal) => Promise<Buffer>, parse: (b: Buffer) => T): Promise<Read<T>> {
    const got = await access.read({
      scope: addr.scope,
      key,
      ttlMs,
      staleIfErrorMs: STALE_IF_ERROR_MS,
      cred,
      own: {},
      async fetch(auth, signal) {
        const body = await load(auth, signal);
        parse(body);
        return { body, contentType: 'application/json' };
      },
      check: (credential) => check(addr, credential),
    });
    return { value: parsedOnce(got.result.body, parse), result: got.result.result, private: got.private };
  }

  return {
    versions(addr, cred) {
      return scoped(
        addr,
        tagListKey(addr),
        METADATA_TTL_MS,
        cred,
        async (auth, signal) => {
          const versions = new Set<string>();
          let query: URLSearchParams | undefined = new URLSearchParams();
          for (let page = 0; query !== undefined && page < MAX_TAG_PAGES; page++) {
            const res = await open(addr, { tags: query }, auth, signal);
            query = nextPage(res);
            const json = JSON.parse((await registry.read(res, MAX_TAG_LIST_BYTES)).toString('utf8')) as { tags?: unknown };
            const tags = Array.isArray(json.tags) ? json.tags : [];
            for (const t of tags) {
              const v = typeof t === 'string' && isTag(t) ? versionOfTag(t) : undefined;
              if (v !== undefined) versions.add(v);
            }
          }
          return Buffer.from(JSON.stringify([...versions]));
        },
        (b) => JSON.parse(b.toString('utf8')) as string[],
      );
    },

    version(addr, version, cred) {
      return scoped(
        addr,
        tagManifestKey(addr, version),
        METADATA_TTL_MS,
        cred,
        async (auth, signal) => {
          const res = await open(addr, { manifest: tagOf(version) }, auth, signal);
          const body = await registry.read(res, MAX_MANIFEST_BYTES);
          const announced = header(res, 'docker-content-digest');
          if (announced?.startsWith('sha256:') && announced !== `sha256:${createHash('sha256').update(body).digest('hex')}`) {
            throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'manifest bytes do not match the Docker-Content-Digest the registry sent');
          }
          return body;
        },
        parseVersionManifest,
      );
    },

    target(addr, target, cred) {
      const [algorithm, hex] = target.digest.split(':') as [string, string];
      return scoped(
        addr,
        manifestKey(addr, target.digest),
        Number.POSITIVE_INFINITY,
        cred,
        async (auth, signal) => {
          const res = await open(addr, { manifest: target.digest }, auth, signal);
          const body = await registry.read(res, MAX_MANIFEST_BYTES);
          if (createHash(algorithm).update(body).digest('hex') !== hex) {
            throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `the ${target.platform} manifest does not match its digest`);
          }
          return body;
        },
        (b) => parseTargetManifest(b, target.platform),
      );
    },
  };
}
