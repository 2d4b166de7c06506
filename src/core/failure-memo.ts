/**
 * Remembers recent failures of expensive, repeatable work (hashing an
 * archive, asking a git host), so a request that is bound to fail the same
 * way fails at once instead of costing the CPU or the upstream call again.
 *
 * Invariant: only what the caller chose to remember is kept, each entry for
 * at most `ttlMs`, and never more than `maxEntries` (the oldest go first),
 * so hostile input cannot grow it without bound.
 */
import { RegcacheError } from './errors.js';

/** A remembered failure and when it stops counting. */
interface Remembered {
  error: RegcacheError;
  until: number;
}

/** Bounded, time-limited memory of failures by key. */
export class FailureMemo {
  private readonly entries = new Map<string, Remembered>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The remembered failure of `key`, still valid, as a fresh error whose
   * message says it happened earlier (logs and clients can tell it was not
   * tried again).
   */
  get(key: string): RegcacheError | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    const { error } = hit;
    return new RegcacheError(error.code, `${error.message} (failed earlier, not retried yet)`, {
      cause: error,
      ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
    });
  }

  /** Remembers `error` for `key` (no-op with a zero TTL). */
  set(key: string, error: RegcacheError): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { error, until: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Runs `work` unless `key` failed recently; remembers its failure when `remember` says so. */
  async run<T>(key: string, work: () => Promise<T>, remember: (err: RegcacheError) => boolean): Promise<T> {
    const earlier = this.get(key);
    if (earlier !== undefined) throw earlier;
    try {
      return await work();
    } catch (err) {
      if (err instanceof RegcacheError && remember(err)) this.set(key, err);
      throw err;
    }
  }
}
