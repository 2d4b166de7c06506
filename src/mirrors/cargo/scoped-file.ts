/**
 * The registry's mutable files (config.json and each crate's index file),
 * cached as mutable artifacts: fresh for `index_fresh_for`, then asked of
 * upstream conditionally with the stored ETag / Last-Modified (a 304 renews
 * the copy without a body), served stale when upstream fails, and while
 * another request refreshes them as `index_busy_policy` says.
 *
 * Privacy (private-access.ts): upstream is asked anonymously first; when
 * it refuses and the client sent a credential (auth_required), the
 * credential is tried within the scope's budget, and an accepted answer
 * marks the scope private before its bytes are stored. A known-private
 * scope is authorized before the copy is read; a scope found private by
 * the download it joined is authorized after reading (the marker exists
 * before any of its bytes flow), so no client ever leaves with private
 * bytes it was not authorized for. The body is read whole (index files are
 * small) and handed back to the caller.
 */
import { Readable } from 'node:stream';
import { isUpstreamRefusal, canonicalRefusal } from '../../access/refusal.js';
import { privateAttrs } from '../../access/scope-privacy.js';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute, ArtifactSource, CacheResult, Validators } from '../../core/route.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import type { CargoAccess } from './private-access.js';
import { validatorsOf } from '../../upstream/response.js';
import { readCapped } from '../../core/read-capped.js';

/** One mutable registry file. */
export interface ScopedFile {
  scope: string;
  key: string;
  /** Upstream URL. */
  url: string;
  contentType: string;
  /** Checks a whole body before it is stored (throws: nothing stored). */
  check?: (body: Buffer) => void;
}

/** A file as read for one request. */
export interface LoadedFile {
  body: Buffer;
  result: CacheResult;
  private: boolean;
}

/** What the files are read with. */
export interface ScopedFilesDeps {
  cache: Cache;
  client: UpstreamClient;
  access: CargoAccess;
  freshForMs: number;
  busy: 'stale' | 'bypass';
  expireAfterMs: number;
  maxBytes: number;
  /** How long an upstream 404 is answered from memory; used only while client credentials play no part (auth_required off). */
  notFoundTtlMs: number;
}

/** Reads scoped files for requests. */
export interface ScopedFiles {
  /** The file for a client with `cred`; `freshForMs` overrides the instance's freshness (0: ask upstream now). */
  load(file: ScopedFile, cred: string | undefined, freshForMs?: number): Promise<LoadedFile>;
}


const readAll = (body: Readable | undefined, max: number): Promise<Buffer> =>
  readCapped(body, max, () => new RegcacheError('ERR_UPSTREAM_TOO_LARGE', 'registry file too large'));

/** Creates the reader. */
export function createScopedFiles(deps: ScopedFilesDeps): ScopedFiles {
  const { cache, client, access } = deps;

  /** The route of `file` for a client with `cred` (`authorized`: the scope is private and `cred` was accepted). */
  function route(file: ScopedFile, cred: string | undefined, authorized: boolean, freshForMs: number): ArtifactRoute {
    const source = async (res: UpstreamResponse): Promise<ArtifactSource> => {
      let body: Readable = res.body;
      let size = res.size;
      if (file.check) {
        const whole = await readAll(res.body, deps.maxBytes);
        file.check(whole);
        body = Readable.from([whole]);
        size = whole.length;
      }
      return { body, ...(size !== undefined ? { size } : {}), ...validatorsOf(res.headers) };
    };

    /** One upstream GET (conditional when `validators`), anonymous first unless the scope is known private. */
    const open = async (validators: Validators | undefined, signal: AbortSignal): Promise<UpstreamResponse | 'not-modified'> => {
      const headers: Record<string, string> = {};
      if (validators?.etag !== undefined) headers['if-none-match'] = validators.etag;
      if (validators?.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified;
      const get = async (authorization: string | undefined): Promise<UpstreamResponse | 'not-modified'> => {
        try {
          return await client.open(file.url, { signal, headers, ...(authorization !== undefined ? { authorization } : {}) });
        } catch (err) {
          if (validators && err instanceof RegcacheError && err.upstreamStatus === 304) return 'not-modified';
          throw err;
        }
      };
      if (authorized && cred !== undefined) return get(cred);
      try {
        return await get(undefined);
      } catch (err) {
        if (!isUpstreamRefusal(err)) throw err;
        const anonymous = canonicalRefusal(err);
        if (cred === undefined || !access.enabled || !access.tryCredential(file.scope)) throw anonymous;
        let got: UpstreamResponse | 'not-modified';
        try {
          got = await get(cred);
        } catch (again) {
          if (isUpstreamRefusal(again)) throw anonymous;
          access.giveBack(file.scope);
          throw again;
        }
        access.giveBack(file.scope);
        if (got !== 'not-modified') r.attrs = privateAttrs(file.scope);
        await access.privacy.markPrivate(file.scope, anonymous.upstreamStatus);
        access.accepted(file.scope, cred);
        return got;
      }
    };

    const r: ArtifactRoute = {
      kind: 'artifact',
      key: file.key,
      contentType: file.contentType,
      class: 'metadata',
      async fetch(signal) {
        const got = await open(undefined, signal);
        if (got === 'not-modified') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream answered 304 to an unconditional request');
        return source(got);
      },
      verify: () => undefined,
      freshness: { freshForMs, busy: deps.busy },
      async revalidate(validators, signal) {
        const got = await open(validators, signal);
        return got === 'not-modified' ? 'not-modified' : source(got);
      },
      maxBytes: deps.maxBytes,
      ...(deps.notFoundTtlMs > 0 && !access.enabled ? { negativeTtlMs: deps.notFoundTtlMs } : {}),
      ...(authorized ? { attrs: privateAttrs(file.scope) } : {}),
      ...(Number.isFinite(deps.expireAfterMs) ? { expireAfterMs: deps.expireAfterMs } : {}),
    };
    return r;
  }

  return {
    async load(file, cred, freshForMs = deps.freshForMs) {
      const wasPrivate = await access.privacy.isPrivate(file.scope);
      if (wasPrivate) await access.authorize(file.scope, cred, file.url);
      const reply = await cache.artifact(route(file, cred, wasPrivate, freshForMs), { head: false });
      if (!reply.body) throw new RegcacheError('ERR_INTERNAL', 'no body');
      const body = await readAll(reply.body, deps.maxBytes);
      const isPrivate = wasPrivate || (await access.privacy.isPrivate(file.scope));
      if (isPrivate && !wasPrivate) await access.authorize(file.scope, cred, file.url);
      return { body, result: reply.result, private: isPrivate };
    },
  };
}
