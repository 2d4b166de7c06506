/**
 * The access layer every mode uses for private content: which scopes are
 * private (scope-privacy.ts), scoped metadata reads with credential
 * fallback, refusal memory and per-class single-flight (scoped-read.ts),
 * credential checks within a budget (credential-checks.ts,
 * check-budget.ts), one refusal shape per scope (refusal.ts) and signed
 * artifact URLs (signed-urls.ts).
 *
 * What it promises (docs/security-model.md):
 * - Nothing stored for a private scope is served to a client without a
 *   credential upstream accepted recently, or a valid signed URL, in any
 *   worker process or replica sharing the store.
 * - A refusal reads the same whether or not the scope is cached here.
 * - A credential is never stored or logged; only hashes of it are kept in
 *   memory, briefly.
 */
import type { Cache } from '../core/cache.js';
import type { RegcacheError } from '../core/errors.js';
import { createCheckBudget } from './check-budget.js';
import { createCredentialChecks } from './credential-checks.js';
import { createNegativeCache } from './negative-cache.js';
import { createScopedReads, type ScopedRead, type ScopedResult } from './scoped-read.js';
import { createScopePrivacy } from './scope-privacy.js';
import { createUrlSigner, expiredSignature } from './signed-urls.js';

/** Access decisions for private scopes. */
export interface Access {
  /** Whether `scope` is private (this process saw its marker, or the store holds it now). */
  isPrivate(scope: string): Promise<boolean>;
  /** Reads scoped metadata; throws the scope's refusal when the client may not see it. */
  read(r: ScopedRead): Promise<ScopedResult>;
  /** The one refusal every client that may not see `scope` gets. */
  refusal(scope: string): Promise<RegcacheError>;
  /** The `exp=…&sig=…` query authorizing `path` (canonical, absolute) for the configured lifetime. */
  signQuery(path: string): string;
  /** Throws the scope's refusal unless `query` carries a valid, unexpired signature for `path`. */
  verifyPath(scope: string, path: string, query: URLSearchParams): Promise<void>;
}

/** Settings for access control. */
export interface AccessOptions {
  cache: Pick<Cache, 'metadata' | 'peek'>;
  signingKey: Buffer;
  authCacheTtlMs: number;
  signedUrlTtlMs: number;
  /** How long an upstream 404/401 is answered from memory per key and class (0 = not at all). */
  negativeTtlMs: number;
  /** Refused upstream credential tries per scope and minute. */
  checksPerMinute: number;
  now?: () => number;
}

/** Creates the access controller. */
export function createAccess(opts: AccessOptions): Access {
  const now = opts.now ?? Date.now;
  const privacy = createScopePrivacy(opts.cache);
  const budget = createCheckBudget(opts.checksPerMinute, now);
  const checks = createCredentialChecks({ authCacheTtlMs: opts.authCacheTtlMs, budget, now });
  const negative = createNegativeCache(opts.negativeTtlMs, now);
  const signer = createUrlSigner(opts.signingKey, opts.signedUrlTtlMs, now);
  return {
    isPrivate: (scope) => privacy.isPrivate(scope),
    read: createScopedReads({ cache: opts.cache, privacy, checks, budget, negative }),
    refusal: (scope) => privacy.refusal(scope),
    signQuery: (path) => signer.signQuery(path),
    async verifyPath(scope, path, query) {
      const verdict = signer.check(path, query);
      if (verdict === 'valid') return;
      throw verdict === 'expired' ? expiredSignature() : await privacy.refusal(scope);
    },
  };
}
