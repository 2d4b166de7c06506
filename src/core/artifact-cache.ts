/**
 * Artifact answers: blobs streamed from the store, or followed while a fill
 * downloads them.
 *
 * Invariants:
 * - Hits of immutable artifacts (and of mutable ones within freshForMs)
 *   never call upstream; misses and revalidations are single-flight per
 *   key (one Fill) and run on the server-lifetime signal (see fill.ts).
 * - A mutable artifact past its freshness is revalidated by the request
 *   that found it so; while that runs, other requests get the stored copy
 *   (busy 'stale', result 'stale') or their own unstored upstream stream
 *   (busy 'bypass'). A revalidation failing for upstream or storage reasons
 *   serves the stored copy (result 'stale', reported once as a background
 *   error); the next attempt waits REFRESH_RETRY_MS.
 * - A copy past its expiresAt is never served: it is fetched again whole.
 * - A key being filled or streamed to a client is `busy` (retention keeps it).
 */
import type { Readable } from 'node:stream';
import { bypass } from './bypass.js';
import type { ArtifactReply, ArtifactRequest } from './cache.js';
import type { EngineContext } from './cache-context.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import { Fill } from './fill.js';
import { decideArtifactFreshness, isExpired, REFRESH_RETRY_MS, servesStaleOn } from './freshness.js';
import type { ArtifactRoute, CacheResult } from './route.js';
import type { ObjectMeta } from './store.js';
import { createStoredArtifacts, type Found } from './stored-artifacts.js';

/** The artifact half of the engine. */
export interface ArtifactCache {
  artifact(route: ArtifactRoute, req: ArtifactRequest): Promise<ArtifactReply>;
  followLocal(key: string): Promise<{ size: number | undefined; body: Readable } | undefined>;
  busy(key: string): boolean;
  /** Drops what this process remembers of `key`'s metadata. */
  forget(key: string): void;
  /** Fills running. */
  readonly filling: number;
}

/** Creates the artifact half over `ctx`. */
export function createArtifactCache(ctx: EngineContext): ArtifactCache {
  const { store, observer, now } = ctx;
  const fills = new Map<string, Fill>();
  const stored = createStoredArtifacts(ctx);
  /** When the last revalidation of a key failed: the next one waits REFRESH_RETRY_MS. */
  const revalidationFailedAt = new Map<string, number>();

  /** Starts the one fill of `route.key`, unless upstream refused it recently (negativeTtlMs): that refusal is thrown instead. */
  function startFill(route: ArtifactRoute, replaces: ObjectMeta | undefined, revalidate = false): Fill {
    ctx.negative.check(route.key);
    const limits = { deadlineMs: ctx.fillDeadlineMs, abandonAfterMs: ctx.abandonedFillMs };
    const fill = new Fill({ store, route, signal: ctx.lifetime, observer, coordinator: ctx.coordinator, replaces, revalidate, now, ...limits });
    fills.set(route.key, fill);
    ctx.track(
      fill.done.then(async () => {
        fills.delete(route.key);
        stored.forget(route.key);
        ctx.changed(route.key);
        if (revalidate) noteRevalidation(route.key, fill);
        if (fill.error) ctx.negative.remember(route.key, fill.error, route.negativeTtlMs);
        if (fill.state !== 'committed' || fill.unchanged) return;
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

  /** Remembers how a revalidation ended: a failure that leaves the copy served is reported once and delays the next attempt. */
  function noteRevalidation(key: string, fill: Fill): void {
    if (fill.state !== 'failed' || !fill.error || !servesStaleOn(fill.error)) {
      revalidationFailedAt.delete(key);
      return;
    }
    if (revalidationFailedAt.size >= 10_000) revalidationFailedAt.clear();
    revalidationFailedAt.set(key, now());
    observer.onBackgroundError?.(key, fill.error, 'refresh');
  }

  /** The stored copy, unless it is missing or expired. */
  async function usable(route: ArtifactRoute, req: ArtifactRequest): Promise<Found | undefined> {
    const found = await stored.lookup(route, req);
    if (!found || !isExpired(found.meta, now())) return found;
    stored.release(found);
    return undefined;
  }

  /** Serves `found`, which must exist (it was just read). */
  async function serve(route: ArtifactRoute, req: ArtifactRequest, found: Found, result: CacheResult): Promise<ArtifactReply> {
    const reply = await stored.reply(route, req, found, result);
    if (reply) return reply;
    throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'object vanished while being served');
  }

  /** Follows `fill` (streaming while it downloads), or serves what it committed. */
  async function join(route: ArtifactRoute, req: ArtifactRequest, fill: Fill): Promise<ArtifactReply> {
    await fill.ready();
    // Synchronous from here to follow(): the fill cannot be disposed in between.
    if (fill.state === 'committed' || !fill.followable) {
      const found = await stored.lookup(route, req);
      if (found) return serve(route, req, found, fill.unchanged ? 'hit' : 'miss');
      throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'object vanished after commit');
    }
    const size = fill.size;
    const picked = size === undefined ? undefined : req.pickRange?.(size);
    if (picked === 'unsatisfiable') throw new RegcacheError('ERR_RANGE_NOT_SATISFIABLE');
    const body = req.head ? undefined : fill.follow(picked?.start ?? 0, picked?.end);
    return { result: 'miss', size, sha256: undefined, storedAt: undefined, contentType: route.contentType, range: picked, body };
  }

  /** A request for a key another request is filling or revalidating, per the route's `busy` mode. */
  async function whileBusy(route: ArtifactRoute, req: ArtifactRequest, fill: Fill): Promise<ArtifactReply> {
    const busy = route.freshness?.busy;
    if (busy === 'bypass') return bypass(route, req, ctx.lifetime);
    if (busy === 'stale' && fill.replaces) {
      const found = await usable(route, req);
      if (found) return serve(route, req, found, fill.state === 'committed' ? 'hit' : 'stale');
    }
    return join(route, req, fill);
  }

  /** Revalidates the stale copy `found` (this request waits for the outcome); on an upstream failure serves the copy. */
  async function revalidate(route: ArtifactRoute, req: ArtifactRequest, found: Found): Promise<ArtifactReply> {
    const failedAt = revalidationFailedAt.get(route.key);
    if (failedAt !== undefined && now() - failedAt < REFRESH_RETRY_MS) return serve(route, req, found, 'stale');
    const running = fills.get(route.key);
    stored.release(found);
    if (running) return whileBusy(route, req, running);
    const fill = startFill(route, found.meta, true);
    try {
      await fill.ready();
    } catch (err) {
      if (!servesStaleOn(toRegcacheError(err))) throw err;
      const copy = await usable(route, req);
      if (!copy) throw err;
      return serve(route, req, copy, 'stale');
    }
    return join(route, req, fill);
  }

  async function artifact(route: ArtifactRoute, req: ArtifactRequest): Promise<ArtifactReply> {
    if (ctx.lifetime.aborted) throw new RegcacheError('ERR_SHUTTING_DOWN');
    const running = fills.get(route.key);
    if (running) return whileBusy(route, req, running);
    const found = await stored.lookup(route, req);
    if (found && !isExpired(found.meta, now())) {
      if (decideArtifactFreshness(route, found.meta, now()) === 'fresh') return serve(route, req, found, 'hit');
      return revalidate(route, req, found);
    }
    // Missing, or expired (treated as missing: fetched again whole).
    if (found) stored.release(found);
    const other = fills.get(route.key);
    return other ? whileBusy(route, req, other) : join(route, req, startFill(route, found?.meta));
  }

  return {
    artifact,
    async followLocal(key) {
      const fill = fills.get(key);
      if (!fill) return undefined;
      await fill.ready();
      if (fill.state === 'committed' || !fill.followable) return undefined;
      return { size: fill.size, body: fill.follow() };
    },
    busy: (key) => fills.has(key) || stored.reading(key),
    forget: (key) => stored.forget(key),
    get filling() {
      return fills.size;
    },
  };
}
