/**
 * Committed artifacts as the cache engine reads them: looked up (GET opens
 * the object once; HEAD may use metadata this process read recently) and
 * turned into replies (ranges, HEAD), with the bookkeeping retention needs.
 *
 * Invariants:
 * - A GET reads metadata and body from one open object (one snapshot); only
 *   a Range reopens.
 * - A reply streaming an object keeps its key `reading` until its body closes.
 * - A copy that does not match the route (`matches`) is never served.
 */
import type { Readable } from 'node:stream';
import type { ArtifactReply, ArtifactRequest } from './cache.js';
import type { EngineContext } from './cache-context.js';
import { RegcacheError } from './errors.js';
import { ByteLru } from './lru.js';
import type { ArtifactRoute, CacheResult } from './route.js';
import type { ObjectMeta, OpenedObject } from './store.js';

/**
 * How long a HEAD of a cached artifact may be answered from the metadata an
 * earlier request of this process read (no store access): bounds what another
 * process (a replica, `regcache gc`) removed meanwhile. Local commits and
 * invalidations forget the key at once. A GET always reads the stored object.
 */
const HEAD_META_MS = 60_000;

/** A stored copy found for a request: its meta and, for GET, the opened object. */
export interface Found {
  meta: ObjectMeta;
  opened: OpenedObject | undefined;
}

/** Reading committed artifacts. */
export interface StoredArtifacts {
  /** The stored copy of `route.key`, opened for a GET; undefined when there is none. */
  lookup(route: ArtifactRoute, req: ArtifactRequest): Promise<Found | undefined>;
  /** The reply serving `found`; undefined when the object vanished before a Range could be opened. */
  reply(route: ArtifactRoute, req: ArtifactRequest, found: Found, result: CacheResult): Promise<ArtifactReply | undefined>;
  /** Lets go of a copy that will not be served. */
  release(found: Found): void;
  /** Drops the metadata remembered for HEAD. */
  forget(key: string): void;
  /** Whether a reply is streaming `key` right now. */
  reading(key: string): boolean;
}

/** Creates the reader over `ctx.store`. */
export function createStoredArtifacts(ctx: EngineContext): StoredArtifacts {
  const { store, now } = ctx;
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

  async function headMeta(key: string): Promise<ObjectMeta | undefined> {
    const known = artifactMeta.get(key);
    if (known && now() - known.at < HEAD_META_MS) return known.meta;
    const meta = await store.stat(key);
    if (meta) rememberArtifact(key, meta);
    else artifactMeta.delete(key);
    return meta;
  }

  return {
    async lookup(route, req) {
      if (req.head) {
        const meta = await headMeta(route.key);
        return meta && { meta, opened: undefined };
      }
      // GET opens once (metadata and body from one descriptor); only a Range reopens.
      const opened = await store.open(route.key);
      if (!opened) return undefined;
      rememberArtifact(route.key, opened.meta);
      return { meta: opened.meta, opened };
    },

    async reply(route, req, found, result) {
      const { meta } = found;
      let opened = found.opened;
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
    },

    release: (found) => found.opened?.body.destroy(),
    forget: (key) => artifactMeta.delete(key),
    reading: (key) => readers.has(key),
  };
}
