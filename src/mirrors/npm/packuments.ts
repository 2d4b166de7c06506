/**
 * Packuments through the cache, in two representations (full JSON and the
 * abbreviated `application/vnd.npm.install-v1+json`), each its own key.
 * Every read goes through the access layer (src/access/): upstream is asked
 * with no credential first; only when it refuses and the client sent one is
 * the client's token tried (sent to the upstream registry only), the package
 * then marked private, and every later reader must hold a token upstream
 * accepts. `revalidate`: fresh for `metadata_fresh_for`, then a conditional
 * request with the stored ETag / Last-Modified (a 304 renews the copy);
 * `immutable`: kept; `bypass`: asked every time, not stored. When upstream
 * cannot answer (down, 5xx, broken), a stored public copy of any age is
 * served instead. `metadata_busy_policy: stale`: while a request of this
 * process is loading a packument, others get the stored public copy at
 * once instead of waiting for that load (`bypass`: they wait for it, one
 * upstream request either way).
 */
import type { Access } from '../../access/access.js';
import type { Credential } from '../../access/credential.js';
import type { UpstreamAuth } from '../../access/scoped-read.js';
import { isUpstreamRefusal } from '../../access/refusal.js';
import { isPrivateObject } from '../../access/scope-privacy.js';
import type { Cache } from '../../core/cache.js';
import { isUpstreamFailure, RegcacheError } from '../../core/errors.js';
import type { CacheResult, LoadedMetadata, Validators } from '../../core/route.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { packageScope, packumentKey, upstreamPackagePath } from './names.js';
import { parsePackument } from './packument-json.js';
import { validatorsOf } from '../../upstream/response.js';

/** The abbreviated packument's media type. */
export const CORGI = 'application/vnd.npm.install-v1+json';
const CORGI_ACCEPT = `${CORGI}; q=1.0, application/json; q=0.8, */*`;

/** Which representation a packument is. */
export type Representation = 'full' | 'corgi';

/** A packument as read. */
export interface Packument {
  body: Buffer;
  contentType: string;
  result: CacheResult;
  private: boolean;
}

/** What the reader needs. */
export interface PackumentDeps {
  instance: string;
  cache: Cache;
  client: UpstreamClient;
  access: Access;
  upstream: string;
  policy: 'bypass' | 'immutable' | 'revalidate';
  freshForMs: number;
  /** `metadata_busy_policy`: 'stale' serves the stored copy while another request of this process revalidates it. */
  busy: 'stale' | 'bypass';
  maxBytes: number;
}

/** Reads packuments. */
export interface Packuments {
  read(name: string, repr: Representation, cred: Credential): Promise<Packument>;
}


/** Creates the packument reader. */
export function createPackuments(deps: PackumentDeps): Packuments {
  const { cache, client, access } = deps;
  const urlOf = (name: string): string => `${deps.upstream}${upstreamPackagePath(name)}`;

  async function load(name: string, repr: Representation, auth: UpstreamAuth, signal: AbortSignal, validators?: Validators): Promise<LoadedMetadata | 'not-modified'> {
    const headers: Record<string, string> = {};
    if (validators?.etag !== undefined) headers['if-none-match'] = validators.etag;
    if (validators?.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified;
    let got: Awaited<ReturnType<UpstreamClient['bytes']>>;
    try {
      got = await client.bytes(urlOf(name), deps.maxBytes, { signal, accept: repr === 'corgi' ? CORGI_ACCEPT : 'application/json', headers, ...auth });
    } catch (err) {
      if (validators && err instanceof RegcacheError && err.upstreamStatus === 304) return 'not-modified';
      throw err;
    }
    parsePackument(got.body, name); // throws: nothing stored
    return { body: got.body, contentType: repr === 'corgi' ? CORGI : 'application/json', ...validatorsOf(got.headers) };
  }

  async function bypass(name: string, repr: Representation, cred: Credential): Promise<Packument> {
    const signal = AbortSignal.timeout(120_000);
    try {
      const got = (await load(name, repr, {}, signal)) as LoadedMetadata;
      return { body: got.body, contentType: got.contentType, result: 'bypass', private: false };
    } catch (err) {
      // Refused anonymously (401/403, or a 404 of a registry that hides private packages): the client's own token, to the registry only.
      if (typeof cred !== 'string' || !isUpstreamRefusal(err)) throw err;
      const got = (await load(name, repr, { authorization: cred }, signal)) as LoadedMetadata;
      return { body: got.body, contentType: got.contentType, result: 'bypass', private: true };
    }
  }

  /** Loads running in this process, per key. */
  const running = new Map<string, number>();

  /** The stored copy of `key` when it is public (any age), else undefined. */
  async function storedPublic(key: string, scope: string): Promise<Packument | undefined> {
    const stored = await cache.cached(key);
    if (!stored || isPrivateObject(stored.attrs) || (await access.isPrivate(scope))) return undefined;
    const fresh = deps.policy === 'immutable' || Date.now() - stored.storedAt < deps.freshForMs;
    return { body: stored.body, contentType: stored.contentType, result: fresh ? 'hit' : 'stale', private: false };
  }

  return {
    async read(name, repr, cred) {
      if (deps.policy === 'bypass') return bypass(name, repr, cred);
      const scope = packageScope(deps.instance, name);
      const key = packumentKey(deps.instance, name, repr);
      if (deps.busy === 'stale' && (running.get(key) ?? 0) > 0) {
        const stale = await storedPublic(key, scope);
        if (stale) return stale;
      }
      running.set(key, (running.get(key) ?? 0) + 1);
      try {
        const got = await access.read({
          scope,
          key,
          ttlMs: deps.policy === 'immutable' ? Number.POSITIVE_INFINITY : deps.freshForMs,
          staleIfErrorMs: 0,
          cred,
          own: {},
          fetch: (auth, signal, validators) => load(name, repr, auth, signal, validators),
          async check(credential) {
            const res = await client.open(urlOf(name), { authorization: credential, accept: CORGI_ACCEPT });
            res.body.destroy();
          },
        });
        return { body: got.result.body, contentType: got.result.contentType, result: got.result.result, private: got.private };
      } catch (err) {
        if (!isUpstreamFailure(err)) throw err;
        // Upstream cannot answer: a stored public copy of any age stands in (private ones need upstream to check the token).
        const stale = await storedPublic(key, scope);
        if (!stale) throw err;
        return stale;
      } finally {
        const left = (running.get(key) ?? 1) - 1;
        if (left > 0) running.set(key, left);
        else running.delete(key);
      }
    },
  };
}
