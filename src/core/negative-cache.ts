/**
 * Negative caching: an authoritative "no" from upstream (404, 401/403) for a
 * key whose route asks for it (`negativeTtlMs`) is remembered in memory and
 * given again, instead of asking upstream, until it expires.
 *
 * Invariants:
 * - Only ERR_UPSTREAM_NOT_FOUND and ERR_UPSTREAM_UNAUTHORIZED are
 *   remembered; transient failures never are.
 * - It stands in for the upstream call only: stored copies are served as
 *   before; purge and forget drop the entry.
 * - Bounded: at most MAX_ENTRIES keys, the oldest dropped first.
 */
import { RegcacheError } from './errors.js';

const MAX_ENTRIES = 10_000;
const REMEMBERED: ReadonlySet<string> = new Set(['ERR_UPSTREAM_NOT_FOUND', 'ERR_UPSTREAM_UNAUTHORIZED']);

interface Entry {
  error: RegcacheError;
  until: number;
}

/** Remembered upstream refusals, per key. */
export class NegativeCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number) {}

  /** Remembers `error` for `key` for `ttlMs` when it is an authoritative refusal and the route asks for it. */
  remember(key: string, error: RegcacheError, ttlMs: number | undefined): void {
    if (ttlMs === undefined || !(ttlMs > 0) || !REMEMBERED.has(error.code)) return;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { error, until: this.now() + ttlMs });
  }

  /** Throws the refusal remembered for `key`, if one is in force: the upstream call it stands for is not made. */
  check(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (this.now() >= e.until) {
      this.entries.delete(key);
      return;
    }
    throw new RegcacheError(e.error.code, e.error.message, e.error.upstreamStatus === undefined ? {} : { upstreamStatus: e.error.upstreamStatus });
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
