/**
 * How many credentials regcache may try upstream per scope and minute. A
 * client sending ever new tokens would otherwise make regcache ask upstream
 * about each, from regcache's own address: a token-guessing oracle. Only
 * tries that upstream refused count (a credential upstream accepts, or a try
 * that failed for another reason, gives its slot back), so clients with
 * good credentials never run out; a slot is taken before asking, so tries
 * running at the same time count too.
 */

/** A per-scope token bucket of upstream credential tries. */
export interface CheckBudget {
  /** Takes a slot for one upstream try in `scope`; false when the budget is spent. */
  take(scope: string): boolean;
  /** Gives a slot back (the try was accepted, or never answered). */
  giveBack(scope: string): void;
}

/** Scopes tracked at most; beyond, the oldest buckets are forgotten (full again). */
const MAX_SCOPES = 10_000;

/** Creates a budget of `perMinute` refused tries per scope. */
export function createCheckBudget(perMinute: number, now: () => number = Date.now): CheckBudget {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const current = (scope: string): { tokens: number; at: number } => {
    const t = now();
    const b = buckets.get(scope);
    if (b === undefined) {
      if (buckets.size >= MAX_SCOPES) buckets.delete(buckets.keys().next().value ?? '');
      const fresh = { tokens: perMinute, at: t };
      buckets.set(scope, fresh);
      return fresh;
    }
    b.tokens = Math.min(perMinute, b.tokens + ((t - b.at) * perMinute) / 60_000);
    b.at = t;
    return b;
  };
  return {
    take(scope) {
      const b = current(scope);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    giveBack(scope) {
      const b = current(scope);
      b.tokens = Math.min(perMinute, b.tokens + 1);
    },
  };
}
