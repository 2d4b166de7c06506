/**
 * Metadata of a scope that may be private (one provider, one module …),
 * read through the cache engine. Every mode's credential handling goes
 * through here.
 *
 * - Upstream is asked with regcache's own authorization first (anonymous,
 *   or the operator's configured token). Only when that is refused and the
 *   client sent a credential is the client's credential tried (within the
 *   scope's budget, check-budget.ts); the scope is then marked private
 *   before the answer is stored, and the answer is stored with
 *   `private=<scope>` in its attrs.
 * - A load is shared only by requests of one authorization class: a request
 *   with a credential that waited on a load of another class and got its
 *   refusal loads again with its own credential.
 * - Refusals are remembered per key and class (negative-cache.ts) and have
 *   the scope's one shape (refusal.ts).
 * - An answer is private when its own attrs say so or the scope's marker is
 *   in the store (read on every call: "public" is never remembered); a
 *   private answer needs a credential upstream accepts, or a signed URL.
 */
import type { Cache } from '../core/cache.js';
import { RegcacheError } from '../core/errors.js';
import type { LoadedMetadata, MetadataResult, Validators } from '../core/route.js';
import type { CheckBudget } from './check-budget.js';
import { SIGNED_URL, type Credential } from './credential.js';
import type { CredentialChecks } from './credential-checks.js';
import type { NegativeCache } from './negative-cache.js';
import { canonicalRefusal, isRefusal, isUpstreamRefusal } from './refusal.js';
import { isPrivateObject, privateAttrs, type ScopePrivacy } from './scope-privacy.js';

/** Upstream authorization for one request: none, or one Authorization header. */
export interface UpstreamAuth {
  authorization?: string;
}

/** One metadata read in a scope. */
export interface ScopedRead {
  /** The privacy scope (a cache key prefix). */
  scope: string;
  key: string;
  ttlMs: number;
  staleIfErrorMs: number;
  cred: Credential;
  /** What regcache itself sends upstream (a configured token), tried first. */
  own: UpstreamAuth;
  /**
   * One upstream request made with `auth`; throws the upstream's RegcacheError.
   * `validators` (the stored copy's, given only with regcache's own
   * authorization) allow a conditional request answered 'not-modified'.
   */
  fetch: (auth: UpstreamAuth, signal: AbortSignal, validators?: Validators) => Promise<LoadedMetadata | 'not-modified'>;
  /** Asks upstream whether `credential` may see the scope (a cheap authorized request). */
  check: (credential: string) => Promise<void>;
}

/** A scoped answer and whether it is private. */
export interface ScopedResult {
  result: MetadataResult;
  private: boolean;
}

/** What scoped reads are made of. */
export interface ScopedReadDeps {
  cache: Pick<Cache, 'metadata'>;
  privacy: ScopePrivacy;
  checks: CredentialChecks;
  budget: CheckBudget;
  negative: NegativeCache;
}

/** Tries of a request with a credential that keeps meeting loads of other classes. */
const JOIN_RETRIES = 3;

/** What one load did, for the request that started it. */
interface LoadRun {
  ran: boolean;
  /** The refusal it ended with was upstream's answer for this request's own class. */
  confirmed: boolean;
}

/** Creates the scoped reader. */
export function createScopedReads(deps: ScopedReadDeps): (r: ScopedRead) => Promise<ScopedResult> {
  const { cache, privacy, checks, budget, negative } = deps;

  async function load(r: ScopedRead, run: LoadRun, signal: AbortSignal, validators: Validators | undefined): Promise<LoadedMetadata | 'not-modified'> {
    run.ran = true;
    // A remembered 401 stands for the anonymous try; a remembered 404 does not (the item may have
    // been published since, and a credential that works must not make public content private).
    let anonymous: RegcacheError | undefined = negative.get(r.key, undefined);
    if (anonymous?.code !== 'ERR_UNAUTHORIZED') anonymous = undefined;
    if (anonymous === undefined) {
      try {
        return await r.fetch(r.own, signal, validators);
      } catch (err) {
        if (!isUpstreamRefusal(err)) throw err;
        anonymous = canonicalRefusal(err);
        negative.set(r.key, undefined, anonymous);
      }
    }
    if (typeof r.cred !== 'string') {
      run.confirmed = r.cred === undefined;
      throw anonymous;
    }
    if (!budget.take(r.scope)) throw anonymous;
    let loaded: LoadedMetadata | 'not-modified';
    try {
      // Unconditional: the answer is stored with the scope's privacy in its attrs.
      loaded = await r.fetch({ authorization: r.cred }, signal);
    } catch (err) {
      if (!isUpstreamRefusal(err)) {
        budget.giveBack(r.scope);
        throw err;
      }
      // The client learns what an anonymous client learns: not whether its credential mattered.
      run.confirmed = true;
      throw anonymous;
    }
    budget.giveBack(r.scope);
    if (loaded === 'not-modified') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream answered 304 to an unconditional request');
    await privacy.markPrivate(r.scope, anonymous.upstreamStatus);
    checks.accepted(r.scope, r.cred);
    return { ...loaded, attrs: { ...loaded.attrs, ...privateAttrs(r.scope) } };
  }

  async function loadShared(r: ScopedRead): Promise<MetadataResult> {
    for (let attempt = 0; ; attempt++) {
      const run: LoadRun = { ran: false, confirmed: false };
      try {
        return await cache.metadata({ kind: 'metadata', key: r.key, ttlMs: r.ttlMs, staleIfErrorMs: r.staleIfErrorMs, load: (signal, validators) => load(r, run, signal, validators) });
      } catch (err) {
        if (!isRefusal(err)) throw err;
        // Someone else's load (another class) was refused: this credential was not tried yet.
        if (!run.ran && typeof r.cred === 'string' && attempt < JOIN_RETRIES) continue;
        // Every load tries anonymously first, so any refusal is also the anonymous answer.
        if (run.confirmed || (!run.ran && r.cred === undefined)) negative.set(r.key, r.cred, err);
        throw err;
      }
    }
  }

  return async (r) => {
    const remembered = negative.get(r.key, r.cred);
    if (remembered) throw remembered;
    const result = await loadShared(r);
    const isPrivate = isPrivateObject(result.attrs) || (await privacy.isPrivate(r.scope));
    if (isPrivate && r.cred !== SIGNED_URL) {
      if (r.cred === undefined) throw await privacy.refusal(r.scope);
      await checks.authorize(r.scope, r.cred, () => privacy.refusal(r.scope), r.check);
    }
    return { result, private: isPrivate };
  };
}
