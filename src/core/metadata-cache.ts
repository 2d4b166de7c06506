/**
 * Metadata answers: small bodies with a freshness lifetime, kept in memory
 * (bounded) in front of the store.
 *
 * Invariants:
 * - Served fresh within its ttl; after it, the stale copy is served while
 *   one background refresh runs, until ttl + staleIfError; beyond that a
 *   synchronous reload is required. Loads are single-flight per key.
 * - A failed load is propagated to every waiter and never stored; a failed
 *   background refresh is retried at most once per REFRESH_RETRY_MS.
 * - A copy past its expiresAt is treated as missing: loaded again,
 *   unconditionally, and `cached` does not return it.
 * - A stale copy with upstream validators is revalidated conditionally:
 *   'not-modified' renews it (Store.renew: new storedAt, no body transfer)
 *   and the same bytes are served on; a new body replaces it.
 * - A store failure while writing a loaded answer is only reported: the
 *   answer is still served (it is verified; only its persistence failed).
 */
import { createHash } from 'node:crypto';
import type { EngineContext } from './cache-context.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import { decideFreshness, expiryOf, isExpired, REFRESH_RETRY_MS } from './freshness.js';
import { ByteLru } from './lru.js';
import type { LoadedMetadata, MetadataResult, MetadataRoute, Validators } from './route.js';
import { createSingleFlight } from './single-flight.js';
import type { ObjectMeta, RenewPatch, Store } from './store.js';

/** A metadata answer as held in memory: with what revalidation and expiry need. */
type Held = MetadataResult & Pick<ObjectMeta, 'etag' | 'lastModified' | 'expiresAt'>;

/** The validators of a held copy, when it has any. */
function validatorsOf(h: Held | undefined): Validators | undefined {
  if (!h || (h.etag === undefined && h.lastModified === undefined)) return undefined;
  return { ...(h.etag !== undefined ? { etag: h.etag } : {}), ...(h.lastModified !== undefined ? { lastModified: h.lastModified } : {}) };
}

/** The optional ObjectMeta fields of a held copy that are set. */
function extrasOf(h: Pick<ObjectMeta, 'etag' | 'lastModified' | 'expiresAt'>): Pick<ObjectMeta, 'etag' | 'lastModified' | 'expiresAt'> {
  return {
    ...(h.etag !== undefined ? { etag: h.etag } : {}),
    ...(h.lastModified !== undefined ? { lastModified: h.lastModified } : {}),
    ...(h.expiresAt !== undefined ? { expiresAt: h.expiresAt } : {}),
  };
}

/** The metadata half of the engine. */
export interface MetadataCache {
  metadata(route: MetadataRoute): Promise<MetadataResult>;
  /** A cached body regardless of age, without any upstream call. */
  cached(key: string): Promise<MetadataResult | undefined>;
  /** Drops what memory holds of `key`. */
  forget(key: string): void;
  /** Loads running. */
  readonly loading: number;
}

/** Creates the metadata half over `ctx`, keeping up to `memoryBytes` of bodies in memory. */
export function createMetadataCache(ctx: EngineContext, memoryBytes: number): MetadataCache {
  const { store, observer, now } = ctx;
  const loads = createSingleFlight<Held>();
  /** When the last background refresh of a key failed: the next one waits REFRESH_RETRY_MS. */
  const refreshFailedAt = new Map<string, number>();
  const mem = new ByteLru<Held>(memoryBytes);
  const remember = (key: string, r: Held): void => {
    ctx.changed(key);
    mem.set(key, r, r.body.length + key.length + 200);
  };

  async function readCached(key: string): Promise<Held | undefined> {
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
    const r: Held = {
      body: got.body,
      contentType: got.meta.contentType,
      storedAt: got.meta.storedAt,
      sha256: got.meta.sha256,
      attrs: got.meta.attrs ?? {},
      result: 'hit',
      ...extrasOf(got.meta),
    };
    remember(key, r);
    return r;
  }

  /** The held copy of `key` unless it is missing or expired (an expired copy is treated as missing). */
  async function readUsable(key: string): Promise<Held | undefined> {
    const held = await readCached(key);
    return held && !isExpired(held, now()) ? held : undefined;
  }

  /** Commits `r` as `route`'s object; a store failure is only reported. */
  async function commit(route: MetadataRoute, r: Held): Promise<void> {
    try {
      const pending = await store.create(route.key);
      try {
        await pending.append(r.body);
        await pending.commit({ class: route.class ?? 'metadata', sha256: r.sha256, contentType: r.contentType, storedAt: r.storedAt, attrs: r.attrs, ...extrasOf(r) });
      } finally {
        await pending.dispose();
      }
    } catch (err) {
      observer.onBackgroundError?.(route.key, toRegcacheError(err), 'store');
    }
  }

  /** Upstream confirmed `prior` (a 304): it starts a new lifetime, stored without its body moving. */
  async function renew(route: MetadataRoute, prior: Held): Promise<Held> {
    const storedAt = now();
    const r: Held = { ...prior, storedAt, result: 'hit', ...expiryOf(route, storedAt) };
    const patch: RenewPatch = { storedAt, ...expiryOf(route, storedAt) };
    try {
      const renewed = store.renew ? await store.renew(route.key, patch) : undefined;
      // Gone from the store meanwhile (or a store that cannot renew): the confirmed bytes are stored again.
      if (!renewed && (!store.renew || (await store.stat(route.key)) === undefined)) await commit(route, r);
    } catch (err) {
      observer.onBackgroundError?.(route.key, toRegcacheError(err), 'store');
    }
    remember(route.key, r);
    return r;
  }

  /** Loads `route` (conditionally when `prior` has validators) and stores the answer. */
  async function loadAndStore(route: MetadataRoute, prior: Held | undefined): Promise<Held> {
    const validators = validatorsOf(prior);
    let loaded: LoadedMetadata | 'not-modified';
    // A refusal remembered for this key stands in for the load (negativeTtlMs).
    ctx.negative.check(route.key);
    try {
      loaded = await route.load(ctx.lifetime, validators);
    } catch (err) {
      const error = toRegcacheError(err);
      ctx.negative.remember(route.key, error, route.negativeTtlMs);
      observer.onLoadError?.(route.key, error);
      throw err;
    }
    if (loaded === 'not-modified') {
      if (!prior || !validators) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'unexpected not-modified answer');
      observer.onRevalidated?.(route.key, true);
      return renew(route, prior);
    }
    if (validators) observer.onRevalidated?.(route.key, false);
    const storedAt = now();
    const r: Held = {
      body: loaded.body,
      contentType: loaded.contentType,
      storedAt,
      sha256: createHash('sha256').update(loaded.body).digest('hex'),
      attrs: loaded.attrs ?? {},
      result: 'miss',
      ...extrasOf(loaded),
      ...expiryOf(route, storedAt),
    };
    await commit(route, r);
    remember(route.key, r);
    return r;
  }

  async function metadata(route: MetadataRoute): Promise<MetadataResult> {
    if (ctx.lifetime.aborted) throw new RegcacheError('ERR_SHUTTING_DOWN');
    const cached = await readUsable(route.key);
    if (cached) {
      const f = decideFreshness(cached.storedAt, now(), route.ttlMs, route.staleIfErrorMs);
      if (f === 'fresh') return { ...cached, result: 'hit' };
      if (f === 'stale') {
        const failedAt = refreshFailedAt.get(route.key);
        if (!loads.has(route.key) && (failedAt === undefined || now() - failedAt >= REFRESH_RETRY_MS)) {
          ctx.track(
            loads.run(route.key, () => loadAndStore(route, cached)).then(
              () => refreshFailedAt.delete(route.key),
              (err: unknown) => {
                if (refreshFailedAt.size >= 10_000) refreshFailedAt.clear();
                refreshFailedAt.set(route.key, now());
                observer.onBackgroundError?.(route.key, toRegcacheError(err), 'refresh');
              },
            ),
          );
        }
        ctx.servedStale(route.key);
        return { ...cached, result: 'stale' };
      }
    }
    // Past staleIfError a copy with validators is still revalidated (a 304 serves it on), synchronously.
    return { ...(await loads.run(route.key, () => loadAndStore(route, cached))) };
  }

  return {
    metadata,
    cached: readUsable,
    forget: (key) => mem.delete(key),
    get loading() {
      return loads.size;
    },
  };
}
