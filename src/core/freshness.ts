/**
 * Freshness decisions, kept pure so they are unit-tested apart from any
 * I/O.
 *
 * Invariants: ages are measured from the moment a copy was stored or
 * renewed (storedAt); a copy past its expiresAt is never served, whatever
 * its freshness; an authoritative upstream refusal is never hidden behind a
 * stale copy.
 */
import type { RegcacheError } from './errors.js';
import type { ArtifactRoute } from './route.js';
import type { ObjectMeta } from './store.js';

/** fresh: serve. stale: serve now and refresh in the background. expired: must reload. */
export type Freshness = 'fresh' | 'stale' | 'expired';

/**
 * After a failed background refresh or revalidation, requests within this
 * time do not start another: an unreachable upstream is tried about once a
 * second per key, not once per request (each attempt costs a connection
 * attempt and a log line); the stale copy is served meanwhile.
 */
export const REFRESH_RETRY_MS = 1000;

/** Decides what a metadata copy of a given age may be used for. */
export function decideFreshness(storedAt: number, now: number, ttlMs: number, staleIfErrorMs: number): Freshness {
  const age = Math.max(0, now - storedAt);
  if (age < ttlMs) return 'fresh';
  if (age < ttlMs + staleIfErrorMs) return 'stale';
  return 'expired';
}

/** Whether a stored artifact is served as is ('fresh') or revalidated first ('stale'); immutable ones are always fresh. */
export function decideArtifactFreshness(route: Pick<ArtifactRoute, 'freshness'>, meta: Pick<ObjectMeta, 'storedAt'>, now: number): 'fresh' | 'stale' {
  if (!route.freshness) return 'fresh';
  return Math.max(0, now - meta.storedAt) < route.freshness.freshForMs ? 'fresh' : 'stale';
}

/** Whether a copy is past its expiresAt (then it is treated as missing). */
export function isExpired(meta: Pick<ObjectMeta, 'expiresAt'>, now: number): boolean {
  return meta.expiresAt !== undefined && now >= meta.expiresAt;
}

/** The expiresAt a copy stored (or renewed) at `storedAt` gets from its route's `expireAfterMs`. */
export function expiryOf(route: { expireAfterMs?: number }, storedAt: number): { expiresAt?: number } {
  return route.expireAfterMs === undefined ? {} : { expiresAt: storedAt + route.expireAfterMs };
}

/**
 * Whether a failed revalidation still lets the stored copy be served
 * (stale): yes for upstream trouble (5xx, timeouts, broken or refused
 * bytes) and storage trouble, no for an authoritative upstream answer
 * (404, 401/403) and at shutdown.
 */
export function servesStaleOn(err: RegcacheError): boolean {
  return err.code !== 'ERR_UPSTREAM_NOT_FOUND' && err.code !== 'ERR_UPSTREAM_UNAUTHORIZED' && err.code !== 'ERR_SHUTTING_DOWN';
}
