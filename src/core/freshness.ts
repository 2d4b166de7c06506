/**
 * Freshness decisions for metadata, kept pure so they are unit-tested apart
 * from any I/O. Ages are measured from the moment a copy was stored.
 */

/** fresh: serve. stale: serve now and refresh in the background. expired: must reload. */
export type Freshness = 'fresh' | 'stale' | 'expired';

/** Decides what a copy of a given age may be used for. */
export function decideFreshness(storedAt: number, now: number, ttlMs: number, staleIfErrorMs: number): Freshness {
  const age = Math.max(0, now - storedAt);
  if (age < ttlMs) return 'fresh';
  if (age < ttlMs + staleIfErrorMs) return 'stale';
  return 'expired';
}
