/**
 * Artifact answers: blobs streamed from the store, or followed while a fill
 * downloads them.
 *
 * Invariants:
 * - Artifact hits never call upstream; misses are single-flight per key
 *   and run on the server-lifetime signal (see fill.ts).
 * - A key being filled or streamed to a client is `busy` (retention keeps it).
 */
import type { Readable } from 'node:stream';
import type { ArtifactReply, ArtifactRequest } from './cache.js';
import type { EngineContext } from './cache-context.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import { Fill } from './fill.js';
import { ByteLru } from './lru.js';
import type { ArtifactRoute, CacheResult } from './route.js';
import type { ObjectMeta } from './store.js';

/**
 * How long a HEAD of a cached artifact may be answered from the metadata an
 * earlier request of this process read (no store access): bounds what another
 * process (a replica, `regcache gc`) removed meanwhile. Local commits and
 * invalidations forget the key at once. A GET always reads the stored object.
 */
const HEAD_META_MS = 60_000;

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
  /** Artifact metadata last read from the store, for HEAD (see HEAD_META_MS). */
  const artifactMeta = new ByteLru<{ meta: ObjectMeta; at: number }>(4 * 1024 * 1024);
  const rememberArtifact = (key: string, meta: ObjectMeta): void => artifactMeta.set(key, { meta, at: now() }, key.length + 400);
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

  function startFill(route: ArtifactRoute): Fill {
    const fill = new Fill({ store, route, signal: ctx.lifetime, observer, coordinator: ctx.coordinator });
    fills.set(route.key, fill);
    ctx.track(
      fill.done.then(async () => {
        fills.delete(route.key);
        artifactMeta.delete(route.key);
        ctx.changed(route.key);
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
    if (ctx.lifetime.aborted) throw new RegcacheError('ERR_SHUTTING_DOWN');
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

  return {
    artifact,
    async followLocal(key) {
      const fill = fills.get(key);
      if (!fill) return undefined;
      await fill.ready();
      if (fill.state === 'committed' || !fill.followable) return undefined;
      return { size: fill.size, body: fill.follow() };
    },
    busy: (key) => fills.has(key) || readers.has(key),
    forget: (key) => artifactMeta.delete(key),
    get filling() {
      return fills.size;
    },
  };
}
