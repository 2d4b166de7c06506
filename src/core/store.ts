/**
 * The Store contract every backend (fs, s3, later oci) implements.
 *
 * Invariants every backend keeps:
 * - An object becomes visible only when `commit()` succeeds; a reader never
 *   sees a partial object, and a crashed writer leaves nothing visible.
 * - Data and its metadata are committed together (one atomic step).
 * - Keys are validated by `assertKey` before they touch any backend.
 * - Concurrent commits of the same key end with one whole object (last wins).
 */
import type { Readable } from 'node:stream';
import { RegcacheError } from './errors.js';

/**
 * What an object is, recorded with it when it is committed (never guessed
 * from its key): retention evicts artifacts first and never removes markers,
 * purge can keep artifacts and drop metadata, listings show artifacts.
 * - artifact: immutable or revalidated payload (zip, tarball, file);
 * - metadata: small answer that goes stale and is cheap to fetch again;
 * - marker: a record whose loss would change behaviour (a private-scope marker).
 */
export type ObjectClass = 'artifact' | 'metadata' | 'marker';

/** What a store remembers about an object besides its bytes. */
export interface ObjectMeta {
  /** Recorded class; absent on objects written before classes existed (see ModeDefinition.legacyClass). */
  class?: ObjectClass;
  /** Body size in bytes. */
  size: number;
  /** Lowercase hex sha256 of the body. */
  sha256: string;
  contentType: string;
  /** Epoch ms when this copy was committed (freshness is measured from it). */
  storedAt: number;
  /** Small string attributes an adapter wants kept with the object. */
  attrs?: Record<string, string>;
  /** Upstream validators of this copy (conditional revalidation). */
  etag?: string;
  lastModified?: string;
  /** Epoch ms after which the copy is not served and retention removes it (a route's expireAfterMs). */
  expiresAt?: number;
}

/**
 * What `Store.renew` changes: a copy upstream confirmed as current (an HTTP
 * 304) starts a new lifetime. Fields left out keep their stored values.
 */
export interface RenewPatch {
  storedAt: number;
  etag?: string;
  lastModified?: string;
  expiresAt?: number;
}

/** The meta `renew` records: `meta` with every field `patch` sets. */
export function renewedMeta(meta: ObjectMeta, patch: RenewPatch): ObjectMeta {
  const next: ObjectMeta = { ...meta, storedAt: patch.storedAt };
  if (patch.etag !== undefined) next.etag = patch.etag;
  if (patch.lastModified !== undefined) next.lastModified = patch.lastModified;
  if (patch.expiresAt !== undefined) next.expiresAt = patch.expiresAt;
  return next;
}

/** Inclusive byte range, as in HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** An object being written; nothing is visible until `commit`. */
export interface PendingObject {
  /**
   * Appends bytes; resolves when the backend accepted them (backpressure).
   * The backend is done with `chunk` once the promise settles (it copies
   * what it keeps), so the caller may reuse the memory then.
   */
  append(chunk: Uint8Array): Promise<void>;
  /** Bytes appended so far. */
  readonly written: number;
  /**
   * Reads up to `length` already-appended bytes at `position`. Works before
   * and after commit (until `dispose`), so waiters can follow a fill while it
   * downloads without reopening anything. With `into`, the bytes are read
   * into it (length at most `into.length`) and a view of it is returned.
   */
  readAt(position: number, length: number, into?: Buffer): Promise<Uint8Array>;
  /**
   * Makes the object visible under its key with `meta` (size is what was
   * appended). The caller verifies before committing; the backend only
   * guarantees all-or-nothing visibility.
   */
  commit(meta: Omit<ObjectMeta, 'size'>): Promise<ObjectMeta>;
  /** Drops everything written; idempotent. */
  abort(): Promise<void>;
  /** Releases read handles once no follower needs `readAt`; idempotent. */
  dispose(): Promise<void>;
}

/**
 * A body stream that lends its chunks: a consumer that is done with a chunk
 * (its socket write completed without error) may hand it back so the store
 * reuses the memory for its next read. The chunk must be exactly the object
 * the stream emitted, and must not be touched after it is handed back.
 * Handing back is optional; chunks never handed back are garbage-collected.
 */
export interface ChunkLender {
  releaseChunk(chunk: Buffer): void;
}

/** True when `body` lends its chunks (see ChunkLender). */
export function lendsChunks(body: Readable): body is Readable & ChunkLender {
  return typeof (body as Partial<ChunkLender>).releaseChunk === 'function';
}

/** A committed object opened for reading. */
export interface OpenedObject {
  meta: ObjectMeta;
  /** The body, or the requested range of it. */
  body: Readable;
}

/** One entry from `list`. */
export interface ListedObject {
  key: string;
  meta: ObjectMeta;
  /** Epoch ms of the last recorded use (see `touch`), else the commit time. */
  lastAccess: number;
}

/** The storage contract; protocol-agnostic: keys and bytes, nothing else. */
export interface Store {
  /** Backend name for logs and the status page ("fs", "s3"). */
  readonly kind: string;
  /** Prepares the backend (dirs, temp cleanup). Called once at start. */
  init(): Promise<void>;
  stat(key: string): Promise<ObjectMeta | undefined>;
  /** Opens an object, or a range of it; undefined when missing. */
  open(key: string, range?: ByteRange): Promise<OpenedObject | undefined>;
  /** Reads a small object whole (metadata answers). */
  read(key: string): Promise<{ meta: ObjectMeta; body: Buffer } | undefined>;
  /** Starts writing `key`; see PendingObject. */
  create(key: string): Promise<PendingObject>;
  /**
   * Atomically replaces the renewable fields of a stored object's metadata
   * (see RenewPatch); its bytes and other fields stay. Resolves with the
   * new meta, or undefined when there is no such object or it was replaced
   * while being renewed (nothing changed then). Optional: without it the
   * cache commits a metadata body again and fetches an artifact again.
   */
  renew?(key: string, patch: RenewPatch): Promise<ObjectMeta | undefined>;
  /** Removes an object; true if something was removed. */
  delete(key: string): Promise<boolean>;
  /** Lists committed objects whose key starts with `prefix`. */
  list(prefix: string): AsyncIterable<ListedObject>;
  /** Records a use of `key` for retention (best effort, may be coarse). */
  touch?(key: string): void;
  /** Drops what this process keeps open or remembers of `key` (another process deleted or replaced it). */
  forget?(key: string): void;
  /** Throws when the store cannot currently accept writes. */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+@=-]{0,199}$/;

/**
 * Keys are '/'-joined segments of a conservative alphabet, so no input can
 * name a path outside the store root or an object name a backend treats
 * specially. Adapters build keys from validated protocol fields; this is the
 * last line of defence.
 */
export function assertKey(key: string): void {
  const parts = key.split('/');
  if (key.length > 1024 || parts.length < 1 || parts.length > 16) {
    throw new RegcacheError('ERR_BAD_REQUEST', `invalid cache key: ${JSON.stringify(key.slice(0, 80))}`);
  }
  for (const p of parts) {
    if (!SEGMENT.test(p) || p.includes('..')) {
      throw new RegcacheError('ERR_BAD_REQUEST', `invalid cache key segment: ${JSON.stringify(p.slice(0, 80))}`);
    }
  }
}
