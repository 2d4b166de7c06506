/**
 * The cache engine: every caching decision is made here, for every protocol.
 *
 * Invariants:
 * - Artifact hits never call upstream; misses are single-flight per key and
 *   run on the server-lifetime signal (see fill.ts).
 * - Metadata is served fresh within its ttl; after it, the stale copy is
 *   served while one background refresh runs, until ttl + staleIfError;
 *   beyond that a synchronous reload is required. Loads are single-flight.
 * - Non-cacheable outcomes (upstream 404/401/5xx, verification failures) are
 *   propagated to every waiter and never stored.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ByteRange, ObjectMeta, Store } from './store.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import type { Coordinator } from './coordinator.js';
import { Fill, type FillObserver } from './fill.js';
import { decideFreshness } from './freshness.js';
import { ByteLru } from './lru.js';
import type { ArtifactRoute, CacheResult, MetadataResult, MetadataRoute } from './route.js';
import { createSingleFlight } from './single-flight.js';

/** Hooks the core calls so logs and metrics can subscribe without the core knowing them. */
export interface CacheObserver extends FillObserver {
  onBackgroundError?(key: string, error: RegcacheError, what: 'refresh' | 'store' | 'after-commit'): void;
  /** A metadata load failed (once per load, however many requests waited on it). */
  onLoadError?(key: string, error: RegcacheError): void;
}

/** Options for the cache engine. */
export interface CacheOptions {
  store: Store;
  observer?: CacheObserver;
  /** Bytes of metadata kept in memory. */
  memoryBytes?: number;
  /** Fleet-wide single-flight for replicas sharing the store (and for the worker processes of one host). */
  coordinator?: Coordinator;
  now?: () => number;
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

/** When a memoized derived answer stops being valid. */
export interface MemoStamp {
  readonly generation: number;
  readonly expiresAt: number;
}

/** The engine's public face. */
export interface Cache {
  artifact(route: ArtifactRoute, req: ArtifactRequest): Promise<ArtifactReply>;
  metadata(route: MetadataRoute): Promise<MetadataResult>;
  /** Reads a cached object's metadata without any upstream call. */
  peek(key: string): Promise<ObjectMeta | undefined>;
  /** A cached metadata body regardless of age, without any upstream call. */
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
   * reused until this process stores, refreshes, commits or drops any
   * cached object, and for at most `maxAgeMs` (changes made by other
   * replicas, metadata turning stale). An answer whose build read a stale
   * input is not reused, so every request still triggers its refresh.
   * `build` returns the value and its cost in bytes, or `cacheable: false`
   * for an answer that must not be reused. Failures are never memoized.
   */
  derived<T>(key: string, maxAgeMs: number, build: () => Promise<{ value: T; cost: number; cacheable?: boolean }>): Promise<T>;
  /** The validity of `key`'s memoized derived answer (undefined when there is none in force), to reuse what was built from it. */
  derivedStamp(key: string, maxAgeMs: number): MemoStamp | undefined;
  /** Whether a stamp from `derivedStamp` still holds: nothing cached changed in this process since, and it has not expired. */
  isCurrent(stamp: MemoStamp): boolean;
  /** Whether a fill or a response is using `key` right now (retention must not remove it). */
  busy(key: string): boolean;
  /** Fills and metadata loads currently running. */
  readonly inflight: number;
  /** Aborts running fills (shutdown) and waits for them to settle. */
  close(): Promise<void>;
}

/**
 * How long a HEAD of a cached artifact may be answered from the metadata an
 * earlier request of this process read (no store access): bounds what another
 * process (a replica, `regcache gc`) removed meanwhile. Local commits and
 * invalidations forget the key at once. A GET always reads the stored object.
 */
const HEAD_META_MS = 60_000;

/**
 * After a failed background refresh, stale requests within this time do
 * not start another: an unreachable upstream is tried about once a second
 * per key, not once per request (each attempt costs a connection attempt
 * and a log line).
 */
const REFRESH_RETRY_MS = 1000;

/** Creates the cache engine over a store. */
export function createCache(opts: CacheOptions): Cache {
  const { store } = opts;
  const observer = opts.observer ?? {};
  const now = opts.now ?? Date.now;
  const lifetime = new AbortController();
  const fills = new Map<string, Fill>();
  const loads = createSingleFlight<MetadataResult>();
  /** When the last background refresh of a key failed: the next one waits REFRESH_RETRY_MS. */
  const refreshFailedAt = new Map<string, number>();
  const mem = new ByteLru<MetadataResult>(opts.memoryBytes ?? 32 * 1024 * 1024);
  /** Bumped whenever this process changes what a cached key reads as; invalidates `derived` answers. */
  let generation = 0;
  /** Counts stale metadata answers: an answer composed from a stale input is not reused (its refresh must run). */
  let staleServes = 0;
  const composed = new ByteLru<{ value: unknown; generation: number; at: number }>(Math.max(1024 * 1024, (opts.memoryBytes ?? 32 * 1024 * 1024) / 4));
  const stampOf = (memo: { generation: number; at: number }, maxAgeMs: number): MemoStamp => ({ generation: memo.generation, expiresAt: memo.at + maxAgeMs });
  const isCurrent = (stamp: MemoStamp): boolean => stamp.generation === generation && now() < stamp.expiresAt;
  const remember = (key: string, r: MetadataResult): void => {
    generation++;
    mem.set(key, r, r.body.length + key.length + 200);
  };
  /** Artifact metadata last read from the store, for HEAD (see HEAD_META_MS). */
  const artifactMeta = new ByteLru<{ meta: ObjectMeta; at: number }>(4 * 1024 * 1024);
  const rememberArtifact = (key: string, meta: ObjectMeta): void => artifactMeta.set(key, { meta, at: now() }, key.length + 400);
  const background = new Set<Promise<unknown>>();
  const readers = new Map<string, number>();
  const touched = new Map<string, number>();

  /** Counts a response streaming `key` until its body closes. */
  const holdReader = (key: string, body: Readable): void => {
    readers.set(key, (readers.get(key) ?? 0) + 1);
    body.once('close', () => {
      const n = (readers.get(key) ?? 1) - 1;
      if (n <= 0) readers.delete(key);
      else readers.set(key, n);
    });
  };

  /** Records use for retention, at most once a minute per key. */
  const touch = (key: string): void => {
    if (!store.touch) return;
    const t = now();
    if ((touched.get(key) ?? 0) > t - 60_000) return;
    if (touched.size > 10_000) touched.clear();
    touched.set(key, t);
    store.touch(key);
  };

  const track = (p: Promise<unknown>): void => {
    background.add(p);
    void p.finally(() => background.delete(p));
  };

  function startFill(route: ArtifactRoute): Fill {
    const fill = new Fill(store, route, lifetime.signal, observer, opts.coordinator);
    fills.set(route.key, fill);
    track(
      fill.done.then(async () => {
        fills.delete(route.key);
        artifactMeta.delete(route.key);
        generation++;
        if (fill.state !== 'committed') return;
        const logFailure = (err: unknown): void => observer.onBackgroundError?.(route.key, toRegcacheError(err), 'after-commit');
        if (route.afterCommit) await route.afterCommit(route.key).catch(logFailure);
        if (route.afterServed) {
          await fill.served;
          await route.afterServed(route.key).catch(logFailure);
        }
      }),
    );
    return fill;
  }

  async function headMeta(key: string): Promise<ObjectMeta | undefined> {
    const known = artifactMeta.get(key);
    if (known && now() - known.at < HEAD_META_MS) return known.meta;
    const meta = await store.stat(key);
    if (meta) rememberArtifact(key, meta);
    else artifactMeta.delete(key);
    return meta;
  }

  async function fromStore(route: ArtifactRoute, req: ArtifactRequest, result: CacheResult): Promise<ArtifactReply | undefined> {
    // GET opens once (metadata and body from one descriptor); only a Range reopens.
    let opened = req.head ? undefined : await store.open(route.key);
    const meta = req.head ? await headMeta(route.key) : opened?.meta;
    if (!meta) return undefined;
    if (opened) rememberArtifact(route.key, meta);
    if (route.matches && !route.matches(meta)) {
      opened?.body.destroy();
      throw new RegcacheError('ERR_NOT_FOUND');
    }
    const picked = req.pickRange?.(meta.size);
    if (picked === 'unsatisfiable') {
      opened?.body.destroy();
      throw new RegcacheError('ERR_RANGE_NOT_SATISFIABLE');
    }
    if (opened && picked) {
      opened.body.destroy();
      opened = await store.open(route.key, picked);
      if (!opened) return undefined;
    }
    const body: Readable | undefined = opened?.body;
    if (body) holdReader(route.key, body);
    if (result === 'hit') touch(route.key);
    return { result, size: meta.size, sha256: meta.sha256, storedAt: meta.storedAt, contentType: meta.contentType, range: picked, body };
  }

  async function artifact(route: ArtifactRoute, req: ArtifactRequest): Promise<ArtifactReply> {
    if (lifetime.signal.aborted) throw new RegcacheError('ERR_SHUTTING_DOWN');
    let fill = fills.get(route.key);
    if (!fill) {
      const hit = await fromStore(route, req, 'hit');
      if (hit) return hit;
      fill = fills.get(route.key) ?? startFill(route);
    }
    await fill.ready();
    // Synchronous from here to follow(): the fill cannot be disposed in between.
    if (fill.state === 'committed' || !fill.followable) {
      const done = await fromStore(route, req, 'miss');
      if (done) return done;
      throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'object vanished after commit');
    }
    const size = fill.size;
    const picked = size === undefined ? undefined : req.pickRange?.(size);
    if (picked === 'unsatisfiable') throw new RegcacheError('ERR_RANGE_NOT_SATISFIABLE');
    const body = req.head ? undefined : fill.follow(picked?.start ?? 0, picked?.end);
    return { result: 'miss', size, sha256: undefined, storedAt: undefined, contentType: route.contentType, range: picked, body };
  }

  async function readCached(key: string): Promise<MetadataResult | undefined> {
    const m = mem.get(key);
    if (m) return m;
    let got: Awaited<ReturnType<Store['read']>>;
    try {
      got = await store.read(key);
    } catch (err) {
      observer.onBackgroundError?.(key, toRegcacheError(err), 'store');
      return undefined;
    }
    if (!got) return undefined;
    const r: MetadataResult = {
      body: got.body,
      contentType: got.meta.contentType,
      storedAt: got.meta.storedAt,
      sha256: got.meta.sha256,
      attrs: got.meta.attrs ?? {},
      result: 'hit',
    };
    remember(key, r);
    return r;
  }

  async function loadAndStore(route: MetadataRoute): Promise<MetadataResult> {
    let loaded;
    try {
      loaded = await route.load(lifetime.signal);
    } catch (err) {
      observer.onLoadError?.(route.key, toRegcacheError(err));
      throw err;
    }
    if (loaded === 'not-modified') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'unexpected not-modified answer');
    const sha256 = createHash('sha256').update(loaded.body).digest('hex');
    const r: MetadataResult = {
      body: loaded.body,
      contentType: loaded.contentType,
      storedAt: now(),
      sha256,
      attrs: loaded.attrs ?? {},
      result: 'miss',
    };
    try {
      const pending = await store.create(route.key);
      try {
        await pending.append(loaded.body);
        await pending.commit({ class: route.class ?? 'metadata', sha256, contentType: r.contentType, storedAt: r.storedAt, attrs: r.attrs });
      } finally {
        await pending.dispose();
      }
    } catch (err) {
      observer.onBackgroundError?.(route.key, toRegcacheError(err), 'store');
    }
    remember(route.key, r);
    return r;
  }

  async function metadata(route: MetadataRoute): Promise<MetadataResult> {
    if (lifetime.signal.aborted) throw new RegcacheError('ERR_SHUTTING_DOWN');
    const cached = await readCached(route.key);
    if (cached) {
      const f = decideFreshness(cached.storedAt, now(), route.ttlMs, route.staleIfErrorMs);
      if (f === 'fresh') return { ...cached, result: 'hit' };
      if (f === 'stale') {
        const failedAt = refreshFailedAt.get(route.key);
        if (!loads.has(route.key) && (failedAt === undefined || now() - failedAt >= REFRESH_RETRY_MS)) {
          track(
            loads.run(route.key, () => loadAndStore(route)).then(
              () => refreshFailedAt.delete(route.key),
              (err: unknown) => {
                if (refreshFailedAt.size >= 10_000) refreshFailedAt.clear();
                refreshFailedAt.set(route.key, now());
                observer.onBackgroundError?.(route.key, toRegcacheError(err), 'refresh');
              },
            ),
          );
        }
        staleServes++;
        return { ...cached, result: 'stale' };
      }
    }
    const r = await loads.run(route.key, () => loadAndStore(route));
    return { ...r, result: 'miss' };
  }

  return {
    artifact,
    metadata,
    peek: (key) => store.stat(key),
    cached: readCached,
    async invalidate(key) {
      generation++;
      mem.delete(key);
      artifactMeta.delete(key);
      try {
        return await store.delete(key);
      } finally {
        generation++;
        artifactMeta.delete(key);
        await opts.coordinator?.forgotten?.(key);
      }
    },
    async derived<T>(key: string, maxAgeMs: number, build: () => Promise<{ value: T; cost: number; cacheable?: boolean }>): Promise<T> {
      const hit = composed.get(key);
      const t = now();
      if (hit && isCurrent(stampOf(hit, maxAgeMs))) return hit.value as T;
      const gen = generation;
      const stale = staleServes;
      const built = await build();
      if (built.cacheable !== false && staleServes === stale) composed.set(key, { value: built.value, generation: gen, at: t }, built.cost + key.length + 100);
      return built.value;
    },
    derivedStamp(key, maxAgeMs) {
      const hit = composed.peek(key);
      const stamp = hit && stampOf(hit, maxAgeMs);
      return stamp && isCurrent(stamp) ? stamp : undefined;
    },
    isCurrent,
    forget(key) {
      generation++;
      mem.delete(key);
      artifactMeta.delete(key);
      store.forget?.(key);
    },
    async followLocal(key) {
      const fill = fills.get(key);
      if (!fill) return undefined;
      await fill.ready();
      if (fill.state === 'committed' || !fill.followable) return undefined;
      return { size: fill.size, body: fill.follow() };
    },
    busy: (key) => fills.has(key) || readers.has(key),
    get inflight() {
      return fills.size + loads.size;
    },
    async close() {
      lifetime.abort();
      await Promise.allSettled([...background]);
    },
  };
}
