/**
 * Remembered refusals: an upstream 404 or 401/403 for one key is answered
 * again from memory for a short time, per authorization class (anonymous,
 * or a hash of the credential), so a storm of requests for something that
 * does not exist, or that a credential may not see, costs upstream one call
 * per class and period instead of one per request. Only refusals are kept;
 * failures (timeouts, 5xx) go to upstream every time, as stale-if-error
 * expects.
 */
import type { RegcacheError } from '../core/errors.js';
import { ByteLru } from '../core/lru.js';
import { authClass, type Credential } from './credential.js';

/** Remembered refusals per key and authorization class. */
export interface NegativeCache {
  get(key: string, cred: Credential): RegcacheError | undefined;
  set(key: string, cred: Credential, refusal: RegcacheError): void;
}

/** Creates the memory; `ttlMs` 0 remembers nothing. */
export function createNegativeCache(ttlMs: number, now: () => number = Date.now): NegativeCache {
  const entries = new ByteLru<{ refusal: RegcacheError; until: number }>(10_000);
  const slot = (key: string, cred: Credential): string => `${key}\n${authClass(cred)}`;
  return {
    get(key, cred) {
      const e = entries.get(slot(key, cred));
      return e !== undefined && e.until > now() ? e.refusal : undefined;
    },
    set(key, cred, refusal) {
      if (ttlMs > 0) entries.set(slot(key, cred), { refusal, until: now() + ttlMs }, 1);
    },
  };
}
