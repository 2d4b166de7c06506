/**
 * Private content rules.
 *
 * - Upstream is asked anonymously (or with the operator's configured token)
 *   first; only when that is refused and the client sent credentials is the
 *   client's credential used, and the scope (one provider or module) is then
 *   marked private in the store.
 * - Every answer in a private scope requires a credential that upstream
 *   authorizes; checks are cached briefly in memory under a hash of scope +
 *   credential (never the credential itself). Without a credential, or when
 *   upstream cannot confirm one (down) and no recent check exists, the
 *   request is refused.
 * - Artifacts in a private scope are fetched by clients without credentials
 *   (Terraform sends none for zips), so their URLs carry an expiring HMAC
 *   bound to the path.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import { ByteLru } from '../../core/lru.js';

/** Whether an upstream refusal means "credentials needed" (registries often hide private items as 404). */
export function isAuthRefusal(err: unknown): boolean {
  return err instanceof RegcacheError && (err.code === 'ERR_UPSTREAM_UNAUTHORIZED' || err.code === 'ERR_UPSTREAM_NOT_FOUND');
}

/** Access decisions for private scopes. */
export interface Access {
  isPrivate(scope: string): Promise<boolean>;
  /** Records that `scope` needed `credential` upstream (and that this credential works). */
  markPrivate(scope: string, credential: string): Promise<void>;
  /** Throws ERR_UNAUTHORIZED unless the scope is public or `check(credential)` passes upstream. */
  guard(scope: string, credential: string | undefined, check: (credential: string) => Promise<void>): Promise<void>;
  /** The `exp=…&sig=…` query authorizing `path` (canonical, absolute) for the configured lifetime. */
  signQuery(path: string): string;
  /** Throws ERR_UNAUTHORIZED unless `query` carries a valid, unexpired signature for `path`. */
  verifyPath(path: string, query: URLSearchParams): void;
}

/** Settings for access control. */
export interface AccessOptions {
  cache: Cache;
  signingKey: Buffer;
  authCacheTtlMs: number;
  signedUrlTtlMs: number;
  now?: () => number;
}

const DENIED_TTL_MS = 10_000;
const PUBLIC_RECHECK_MS = 1000;

/** Creates the access controller. */
export function createAccess(opts: AccessOptions): Access {
  const now = opts.now ?? Date.now;
  const checks = new ByteLru<{ ok: boolean; until: number }>(10_000);
  const checkKey = (scope: string, credential: string): string => createHash('sha256').update(scope).update('\n').update(credential).digest('base64url');
  const mac = (path: string, exp: string): Buffer => createHmac('sha256', opts.signingKey).update(`${path}\n${exp}`).digest();
  const markerKey = (scope: string): string => `${scope}/private`;
  // Private is forever (markers are never removed); "not private" is re-read from the
  // shared store after a second, so a scope another replica just marked is honoured.
  const known = new Set<string>();
  const publicUntil = new Map<string, number>();

  return {
    async isPrivate(scope) {
      if (known.has(scope)) return true;
      const until = publicUntil.get(scope);
      if (until !== undefined && until > now()) return false;
      const marked = (await opts.cache.cached(markerKey(scope))) !== undefined;
      if (marked) known.add(scope);
      else {
        if (publicUntil.size > 10_000) publicUntil.clear();
        publicUntil.set(scope, now() + PUBLIC_RECHECK_MS);
      }
      return marked;
    },

    async markPrivate(scope, credential) {
      known.add(scope);
      publicUntil.delete(scope);
      checks.set(checkKey(scope, credential), { ok: true, until: now() + opts.authCacheTtlMs }, 1);
      await opts.cache.metadata({
        kind: 'metadata',
        key: markerKey(scope),
        ttlMs: Number.POSITIVE_INFINITY,
        staleIfErrorMs: 0,
        load: () => Promise.resolve({ body: Buffer.from('private'), contentType: 'text/plain' }),
      });
    },

    async guard(scope, credential, check) {
      if (!(await this.isPrivate(scope))) return;
      if (!credential) throw new RegcacheError('ERR_UNAUTHORIZED', 'credentials required for this private content');
      const k = checkKey(scope, credential);
      const known = checks.get(k);
      if (known && known.until > now()) {
        if (known.ok) return;
        throw new RegcacheError('ERR_UNAUTHORIZED', 'upstream refused these credentials');
      }
      try {
        await check(credential);
      } catch (err) {
        if (isAuthRefusal(err)) {
          checks.set(k, { ok: false, until: now() + DENIED_TTL_MS }, 1);
          throw new RegcacheError('ERR_UNAUTHORIZED', 'upstream refused these credentials');
        }
        throw new RegcacheError('ERR_UNAUTHORIZED', 'cannot confirm credentials with upstream right now', { cause: err });
      }
      checks.set(k, { ok: true, until: now() + opts.authCacheTtlMs }, 1);
    },

    signQuery(path) {
      const exp = String(Math.floor((now() + opts.signedUrlTtlMs) / 1000));
      return `exp=${exp}&sig=${mac(path, exp).toString('base64url')}`;
    },

    verifyPath(path, query) {
      const exp = query.get('exp') ?? '';
      const sig = query.get('sig') ?? '';
      if (!/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) {
        throw new RegcacheError('ERR_UNAUTHORIZED', 'this private artifact needs a signed URL');
      }
      if (Number(exp) * 1000 < now()) throw new RegcacheError('ERR_UNAUTHORIZED', 'signed URL expired');
      const expected = mac(path, exp);
      const given = Buffer.from(sig, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new RegcacheError('ERR_UNAUTHORIZED', 'invalid URL signature');
      }
    },
  };
}
