/**
 * The cache engine: every caching decision is made here, for every protocol.
 * This file is its public face; the work is split by concern:
 * artifact-cache.ts (blobs, fills: fill.ts, fill-run.ts), metadata-cache.ts
 * (small answers with a lifetime), memo.ts (answers composed from both).
 *
 * Invariants:
 * - Artifact hits never call upstream; misses are single-flight per key and
 *   run on the server-lifetime signal (see fill.ts).
 * - Metadata is served fresh within its ttl; after it, the stale copy is
 *   served while one background refresh runs, until ttl + staleIfError;
 *   beyond that a synchronous reload is required. Loads are single-flight.
 * - Non-cacheable outcomes (upstream 404/401/5xx, verification failures) are
 *   propagated to every waiter and never stored; a 404/401 may be
 *   remembered in memory for the route's negativeTtlMs (negative-cache.ts).
 */
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import { createArtifactCache } from './artifact-cache.js';
import type { CacheObserver, EngineContext } from './cache-context.js';
import type { Coordinator } from './coordinator.js';
import { createMemo, type MemoStamp } from './memo.js';
import { createMetadataCache } from './metadata-cache.js';
import { NegativeCache } from './negative-cache.js';
import type { ArtifactRoute, CacheResult, MetadataResult, MetadataRoute } from './route.js';
import type { ByteRange, ObjectMeta, Store } from './store.js';

export type { CacheObserver } from './cache-context.js';
export type { MemoStamp } from './memo.js';

/** Options for the cache engine. */
export interface CacheOptions {
  store: Store;
  observer?: CacheObserver;
  /** Bytes of metadata kept in memory. */
  memoryBytes?: number;
  /** Fleet-wide single-flight for replicas sharing the store (and for the worker processes of one host). */
  coordinator?: Coordinator;
  now?: () => number;
  /** Longest a fill may take from the upstream request to its commit (default 1 hour); then ERR_UPSTREAM_TIMEOUT. */
  fillDeadlineMs?: number;
  /**
   * A download whose length upstream did not announce is abandoned once no
   * client has followed or waited for it this long (default 10 s): a body
   * that never ends must not be spooled forever after its last client left.
   */
  abandonedFillMs?: number;
}

/** What an artifact request asked for. */
export interface ArtifactRequest {
  head: boolean;
  /** Picks a byte range once the size is known; 'unsatisfiable' → 416. */
  pickRange?: (size: number) => ByteRange | 'unsatisfiable' | undefined;
}

/** An artifact answer ready to be written to a client. */
export interface ArtifactReply {
  result: CacheResult;
  /** Full object size, when known. */
  size: number | undefined;
  sha256: string | undefined;
  storedAt: number | undefined;
  contentType: string;
  range: ByteRange | undefined;
  /** Undefined for HEAD. */
  body: Readable | undefined;
}

/** The engine's public face. */
export interface Cache {
  artifact(route: ArtifactRoute, req: ArtifactRequest): Promise<ArtifactReply>;
  metadata(route: MetadataRoute): Promise<MetadataResult>;
  /** Reads a cached object's metadata without any upstream call. */
  peek(key: string): Promise<ObjectMeta | undefined>;
  /** A cached metadata body regardless of age (unless past its expiresAt), without any upstream call. */
  cached(key: string): Promise<MetadataResult | undefined>;
  /** Drops a cached object (both tiers); the coordinator tells the other worker processes. */
  invalidate(key: string): Promise<boolean>;
  /** Forgets what this process remembers of `key` (another process dropped it). */
  forget(key: string): void;
  /**
   * Follows this process's running fill of `key` for another worker process
   * (one stream feeds that worker's own fill): undefined when there is none
   * to follow (finished, failed, or never here).
   */
  followLocal(key: string): Promise<{ size: number | undefined; body: Readable } | undefined>;
  /**
   * Memoizes an answer composed from cached objects (a `{version}.json`):
   * reused until this process stores, refreshes, commits, renews or drops
   * any cached object of the same namespace (the first '/'-separated
   * segment: name `key` under the namespace of the objects it is composed
   * from, e.g. `tf/...`), and for at most `maxAgeMs` (changes made by other
   * replicas, metadata turning stale). An answer whose build read a stale
   * input of its namespace is not reused, so every request still triggers
   * its refresh. `build` returns the value and its cost in bytes, or
   * `cacheable: false` for an answer that must not be reused. Failures are
   * never memoized.
   */
  derived<T>(key: string, maxAgeMs: number, build: () => Promise<{ value: T; cost: number; cacheable?: boolean }>): Promise<T>;
  /** The validity of `key`'s memoized derived answer (undefined when there is none in force), to reuse what was built from it. */
  derivedStamp(key: string, maxAgeMs: number): MemoStamp | undefined;
  /** Whether a stamp from `derivedStamp` still holds: nothing cached in its namespace changed in this process since, and it has not expired. */
  isCurrent(stamp: MemoStamp): boolean;
  /** Whether a fill or a response is using `key` right now (retention must not remove it). */
  busy(key: string): boolean;
  /** Fills and metadata loads currently running. */
  readonly inflight: number;
  /** Aborts running fills (shutdown) and waits for them to settle. */
  close(): Promise<void>;
}

/** Creates the cache engine over a store. */
export function createCache(opts: CacheOptions): Cache {
  const { store } = opts;
  const now = opts.now ?? Date.now;
  const memoryBytes = opts.memoryBytes ?? 32 * 1024 * 1024;
  const lifetime = new AbortController();
  // Every running fill listens on the lifetime signal.
  setMaxListeners(0, lifetime.signal);
  const background = new Set<Promise<unknown>>();
  const memo = createMemo(now, Math.max(1024 * 1024, memoryBytes / 4));
  const ctx: EngineContext = {
    store,
    observer: opts.observer ?? {},
    now,
    lifetime: lifetime.signal,
    coordinator: opts.coordinator,
    negative: new NegativeCache(now),
    fillDeadlineMs: opts.fillDeadlineMs ?? 3_600_000,
    abandonedFillMs: opts.abandonedFillMs ?? 10_000,
    changed: (key) => memo.changed(key),
    servedStale: (key) => memo.servedStale(key),
    track(p) {
      background.add(p);
      void p.finally(() => background.delete(p));
    },
  };
  const artifacts = createArtifactCache(ctx);
  const metadata = createMetadataCache(ctx, memoryBytes);

  return {
    artifact: (route, req) => artifacts.artifact(route, req),
    metadata: (route) => metadata.metadata(route),
    peek: (key) => store.stat(key),
    cached: (key) => metadata.cached(key),
    async invalidate(key) {
      ctx.negative.forget(key);
      memo.changed(key);
      metadata.forget(key);
      artifacts.forget(key);
      try {
        return await store.delete(key);
      } finally {
        memo.changed(key);
        artifacts.forget(key);
        await opts.coordinator?.forgotten?.(key);
      }
    },
    derived: (key, maxAgeMs, build) => memo.derived(key, maxAgeMs, build),
    derivedStamp: (key, maxAgeMs) => memo.derivedStamp(key, maxAgeMs),
    isCurrent: (stamp) => memo.isCurrent(stamp),
    forget(key) {
      ctx.negative.forget(key);
      memo.changed(key);
      metadata.forget(key);
      artifacts.forget(key);
      store.forget?.(key);
    },
    followLocal: (key) => artifacts.followLocal(key),
    busy: (key) => artifacts.busy(key),
    get inflight() {
      return artifacts.filling + metadata.loading;
    },
    async close() {
      lifetime.abort();
      await Promise.allSettled([...background]);
    },
  };
}
