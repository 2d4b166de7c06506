/**
 * What the parts of the cache engine (artifact-cache.ts, metadata-cache.ts,
 * memo.ts) share, made once per cache by createCache.
 *
 * Invariant: every change this process makes to what a key reads as goes
 * through `changed(key)`, so memoized answers built from it lapse.
 */
import type { Coordinator } from './coordinator.js';
import type { RegcacheError } from './errors.js';
import type { FillObserver } from './fill.js';
import type { NegativeCache } from './negative-cache.js';
import type { Store } from './store.js';

/** Hooks the core calls so logs and metrics can subscribe without the core knowing them. */
export interface CacheObserver extends FillObserver {
  onBackgroundError?(key: string, error: RegcacheError, what: 'refresh' | 'store' | 'after-commit'): void;
  /** A metadata load failed (once per load, however many requests waited on it). */
  onLoadError?(key: string, error: RegcacheError): void;
}

/** The engine's shared state. */
export interface EngineContext {
  readonly store: Store;
  readonly observer: CacheObserver;
  readonly now: () => number;
  /** The server-lifetime signal: aborted by close(). */
  readonly lifetime: AbortSignal;
  readonly coordinator: Coordinator | undefined;
  /** A fill fails with ERR_UPSTREAM_TIMEOUT after this long (CacheOptions.fillDeadlineMs). */
  readonly fillDeadlineMs: number;
  /** A download of unknown length nobody follows is abandoned after this long (CacheOptions.abandonedFillMs). */
  readonly abandonedFillMs: number;
  /** Upstream refusals remembered per key (routes' negativeTtlMs). */
  readonly negative: NegativeCache;
  /** Records that what `key` reads as changed in this process (memoized answers built from it lapse). */
  changed(key: string): void;
  /** A stale copy of `key` was served (answers composed meanwhile are not reused). */
  servedStale(key: string): void;
  /** Keeps a background task alive until close(). */
  track(p: Promise<unknown>): void;
}
