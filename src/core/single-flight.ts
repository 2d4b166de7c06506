/**
 * In-process single-flight: one running promise per key. The promise runs on
 * its own, independent of whichever caller started it, and leaves the map
 * when it settles, so a later call starts afresh.
 */

/** Collapses concurrent calls for one key into one execution. */
export interface SingleFlight<T> {
  run(key: string, fn: () => Promise<T>): Promise<T>;
  has(key: string): boolean;
  readonly size: number;
}

/** Creates an empty single-flight group. */
export function createSingleFlight<T>(): SingleFlight<T> {
  const inflight = new Map<string, Promise<T>>();
  return {
    run(key, fn) {
      const existing = inflight.get(key);
      if (existing) return existing;
      const p = (async () => {
        try {
          return await fn();
        } finally {
          inflight.delete(key);
        }
      })();
      inflight.set(key, p);
      return p;
    },
    has: (key) => inflight.has(key),
    get size() {
      return inflight.size;
    },
  };
}
