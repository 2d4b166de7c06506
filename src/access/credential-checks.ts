/**
 * Whether a client's credential may see a private scope, asked upstream and
 * remembered briefly in memory under a hash of scope + credential (never
 * the credential itself). One upstream check per credential at a time;
 * new credentials are tried within the scope's budget (check-budget.ts).
 * Without a recent answer and with upstream unable to answer, the request
 * is refused: nothing private is served on an unconfirmed credential.
 */
import { RegcacheError } from '../core/errors.js';
import { ByteLru } from '../core/lru.js';
import type { CheckBudget } from './check-budget.js';
import { credentialKey } from './credential.js';
import { isUpstreamRefusal } from './refusal.js';

/** How long a refused credential is refused without asking upstream again. */
const DENIED_TTL_MS = 10_000;

/** Remembered credential checks. */
export interface CredentialChecks {
  /**
   * Resolves when upstream accepts `credential` for `scope` (recently, or
   * now through `check`); otherwise throws `refusal()`, or ERR_UNAUTHORIZED
   * saying upstream could not be asked.
   */
  authorize(scope: string, credential: string, refusal: () => Promise<RegcacheError>, check: (credential: string) => Promise<void>): Promise<void>;
  /** Records that upstream just accepted `credential` for `scope` (a load made with it). */
  accepted(scope: string, credential: string): void;
}

/** Creates the check memory. */
export function createCredentialChecks(opts: { authCacheTtlMs: number; budget: CheckBudget; now?: () => number }): CredentialChecks {
  const now = opts.now ?? Date.now;
  const results = new ByteLru<{ ok: boolean; until: number }>(10_000);
  const running = new Map<string, Promise<boolean>>();

  /** Asks upstream once for every request waiting on the same key: true accepted, false refused. */
  function ask(scope: string, key: string, credential: string, check: (credential: string) => Promise<void>): Promise<boolean> {
    const known = running.get(key);
    if (known) return known;
    const p = (async () => {
      try {
        await check(credential);
      } catch (err) {
        if (!isUpstreamRefusal(err)) {
          opts.budget.giveBack(scope);
          throw new RegcacheError('ERR_UNAUTHORIZED', 'cannot confirm credentials with upstream right now', { cause: err });
        }
        results.set(key, { ok: false, until: now() + DENIED_TTL_MS }, 1);
        return false;
      } finally {
        running.delete(key);
      }
      opts.budget.giveBack(scope);
      results.set(key, { ok: true, until: now() + opts.authCacheTtlMs }, 1);
      return true;
    })();
    running.set(key, p);
    return p;
  }

  return {
    async authorize(scope, credential, refusal, check) {
      const key = credentialKey(scope, credential);
      const known = results.get(key);
      if (known && known.until > now()) {
        if (known.ok) return;
        throw await refusal();
      }
      if (!running.has(key) && !opts.budget.take(scope)) throw await refusal();
      if (!(await ask(scope, key, credential, check))) throw await refusal();
    },

    accepted(scope, credential) {
      results.set(credentialKey(scope, credential), { ok: true, until: now() + opts.authCacheTtlMs }, 1);
    },
  };
}
