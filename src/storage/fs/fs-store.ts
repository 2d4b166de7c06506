/**
 * Filesystem store.
 *
 * Invariants:
 * - One file per object: body, then the metadata JSON, then an 8-byte
 *   trailer ("RGC1" + uint32 metadata length). Body and metadata therefore
 *   become visible together, by one rename(2) of a fully written and fsynced
 *   temp file. A reader opens one descriptor and reads everything from it,
 *   so a concurrent replace can never mix two versions.
 * - A file whose trailer or sizes do not add up counts as missing.
 * - `renew` rewrites the metadata of a copy and renames it into place
 *   (fs-renew.ts): the same one-rename visibility as a commit.
 * - Temp files live in <root>/tmp named <pid>-<boot>-<random>; at start the
 *   ones whose writer is gone are removed. Several processes may share a
 *   root: each only removes temps of dead writers.
 * - Object paths come only from keys that passed assertKey, and object files
 *   carry a suffix no key segment can have, so a key is never a directory of
 *   another key.
 * - The root is regcache's own: every file is created 0600 and every
 *   directory 0700 (private content is cached here), and `init` narrows the
 *   root, objects and tmp directories of an older store to 0700.
 */
import { constants as fsc, statSync } from 'node:fs';
import { chmod, mkdir, open, readdir, rm, stat as fsStat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { removeDeadTemps, tempName } from '../temp-files.js';
import { RegcacheError } from '../../core/errors.js';
import { assertKey, type ByteRange, type ListedObject, type ObjectMeta, type OpenedObject, type Store } from '../../core/store.js';
import { fileBody } from './file-body.js';
import { createPending } from './fs-pending.js';
import { renewObjectFile } from './fs-renew.js';
import { OpenFiles, type FileLease } from './open-files.js';
import { readTrailer, type TrailerRead } from './trailer.js';
import { chunkPool } from '../../core/buffer-pool.js';

const SUFFIX = '~obj';
/** Modes of everything the store creates: only regcache's user reads the cache. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Options for the filesystem store. */
export interface FsStoreOptions {
  /** Absolute cache root. */
  root: string;
  /** Descriptors of recently served objects kept open (default 256; 0 = off). See open-files.ts. */
  openFiles?: number;
  /** How long a kept descriptor is used before the file is opened again, ms (default 10 s). */
  openFileValidMs?: number;
  now?: () => number;
}

/** Default size of the open-file cache. */
export const OPEN_FILES_DEFAULT = 256;

/** Creates the default store: plain files under one root directory. */
export function createFsStore(opts: FsStoreOptions): Store {
  const objectsDir = join(opts.root, 'objects');
  const tmpDir = join(opts.root, 'tmp');
  const openFiles = new OpenFiles({ max: opts.openFiles ?? OPEN_FILES_DEFAULT, validMs: opts.openFileValidMs ?? 10_000, ...(opts.now ? { now: opts.now } : {}) });

  const pathOf = (key: string): string => {
    assertKey(key);
    return join(objectsDir, ...key.split('/')) + SUFFIX;
  };

  const storageError = (err: unknown): RegcacheError =>
    new RegcacheError('ERR_STORAGE_UNAVAILABLE', `store: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });

  /**
   * Opens a whole object: open, fstat and one read (see readTrailer). With a
   * pooled `tail` chunk (CHUNK_SIZE), an object file of up to that size is read
   * whole by that read, so its body needs no further read.
   */
  async function openExisting(key: string, tail?: Buffer): Promise<({ fh: FileHandle } & TrailerRead) | undefined> {
    const path = pathOf(key);
    let fh: FileHandle;
    try {
      fh = await open(path, fsc.O_RDONLY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw storageError(err);
    }
    try {
      const read = await readTrailer(fh, tail);
      if (!read) {
        await fh.close();
        return undefined;
      }
      return { fh, ...read };
    } catch (err) {
      await fh.close();
      throw storageError(err);
    }
  }

  /**
   * Whether a file is certainly missing, without an error object. `stat`
   * answers "absent" for privacy markers on every artifact request of a
   * public scope; a failed async open costs about 20 µs of main-thread CPU
   * (building the ENOENT error), this lookup about 2 µs, served from the
   * kernel's dentry cache of the local disk the store lives on. Anything
   * but a plain ENOENT (ENOTDIR, EACCES) goes the async way, which reports it.
   */
  const surelyAbsent = (path: string): boolean => {
    try {
      return statSync(path, { throwIfNoEntry: false }) === undefined;
    } catch {
      return false;
    }
  };

  /** Closes a descriptor nobody reads any more without making the caller wait for it. */
  const closeLater = (fh: FileHandle): void => {
    void fh.close().catch(() => undefined);
  };

  /**
   * The body of [range] of a leased object file. `whole` is a pooled chunk
   * holding the whole file (small objects); the body then owns it.
   */
  function bodyOf(meta: ObjectMeta, lease: FileLease, range: ByteRange | undefined, whole?: Buffer): OpenedObject {
    const start = Math.max(0, range?.start ?? 0);
    const end = Math.min(range?.end ?? meta.size - 1, meta.size - 1);
    if (meta.size === 0 || end < start) {
      if (whole) chunkPool.give(whole);
      lease.release();
      return { meta, body: Readable.from([]) };
    }
    if (whole) {
      lease.release();
      return { meta, body: fileBody(undefined, start, end, { chunk: whole, view: whole.subarray(start, end + 1) }) };
    }
    return { meta, body: fileBody(lease, start, end) };
  }

  async function* walk(dir: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw storageError(err);
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) yield* walk(full);
      else if (e.isFile() && e.name.endsWith(SUFFIX)) yield full;
    }
  }

  const store: Store = {
    kind: 'fs',

    async init() {
      try {
        await mkdir(objectsDir, { recursive: true, mode: DIR_MODE });
        await mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
      } catch (err) {
        throw storageError(err);
      }
      // A store created by an older version (0755): closing its top directories hides every file below.
      await Promise.all([opts.root, objectsDir, tmpDir].map((d) => chmod(d, DIR_MODE).catch(() => undefined)));
      await removeDeadTemps(tmpDir);
    },

    async stat(key) {
      const kept = openFiles.acquire(key);
      if (kept) {
        kept.release();
        return kept.file.meta;
      }
      if (surelyAbsent(pathOf(key))) return undefined;
      const o = await openExisting(key);
      if (!o) return undefined;
      closeLater(o.fh);
      return o.meta;
    },

    async open(key, range?: ByteRange): Promise<OpenedObject | undefined> {
      const kept = openFiles.acquire(key);
      if (kept) return bodyOf(kept.file.meta, kept, range);
      const epoch = openFiles.epoch;
      const tail = chunkPool.take();
      let o;
      try {
        o = await openExisting(key, tail);
      } catch (err) {
        chunkPool.give(tail);
        throw err;
      }
      if (!o) {
        chunkPool.give(tail);
        return undefined;
      }
      const lease = openFiles.add(key, { fh: o.fh, meta: o.meta }, epoch);
      // A small object was read whole by the metadata read: its bytes go out from that chunk.
      if (o.head) return bodyOf(o.meta, lease, range, tail);
      chunkPool.give(tail);
      return bodyOf(o.meta, lease, range);
    },

    async read(key) {
      const o = await openExisting(key);
      if (!o) return undefined;
      try {
        if (o.head) return { meta: o.meta, body: Buffer.from(o.head.subarray(0, o.meta.size)) };
        const body = Buffer.alloc(o.meta.size);
        let off = 0;
        while (off < body.length) {
          const { bytesRead } = await o.fh.read(body, off, body.length - off, off);
          if (bytesRead === 0) return undefined;
          off += bytesRead;
        }
        return { meta: o.meta, body };
      } catch (err) {
        throw storageError(err);
      } finally {
        closeLater(o.fh);
      }
    },

    async create(key) {
      const finalPath = pathOf(key);
      const tmpPath = join(tmpDir, tempName());
      let fh: FileHandle;
      try {
        fh = await open(tmpPath, 'w+', FILE_MODE);
      } catch (err) {
        throw storageError(err);
      }
      // A commit replaces the file: a descriptor kept for the old one must not answer for the key any more.
      return createPending(fh, tmpPath, finalPath, storageError, () => openFiles.evict(key));
    },

    async renew(key, patch) {
      const path = pathOf(key);
      try {
        const meta = await renewObjectFile(path, join(tmpDir, tempName()), patch);
        // Like a commit: a descriptor kept for the old file must not answer for the key any more.
        if (meta) openFiles.evict(key);
        return meta;
      } catch (err) {
        throw storageError(err);
      }
    },

    forget(key) {
      openFiles.evict(key);
    },

    async delete(key) {
      const path = pathOf(key);
      openFiles.evict(key);
      try {
        await unlink(path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw storageError(err);
      }
    },

    async *list(prefix): AsyncGenerator<ListedObject> {
      const parts = prefix.split('/').filter((p) => p !== '');
      if (parts.length > 0) assertKey(parts.join('/'));
      for await (const full of walk(join(objectsDir, ...parts))) {
        const key = full.slice(objectsDir.length + 1, -SUFFIX.length).split(sep).join('/');
        if (!key.startsWith(prefix.replace(/^\//, ''))) continue;
        const meta = await store.stat(key).catch(() => undefined);
        const st = await fsStat(full).catch(() => undefined);
        if (meta) yield { key, meta, lastAccess: Math.max(st?.mtimeMs ?? 0, meta.storedAt) };
      }
    },

    touch(key) {
      const now = new Date();
      void utimes(pathOf(key), now, now).catch(() => undefined);
    },

    async checkWritable() {
      const probe = join(tmpDir, tempName('ready-'));
      let fh: FileHandle | undefined;
      try {
        fh = await open(probe, 'w', FILE_MODE);
        await fh.write('ok');
        await fh.datasync();
      } catch (err) {
        throw storageError(err);
      } finally {
        await fh?.close().catch(() => undefined);
        await rm(probe, { force: true }).catch(() => undefined);
      }
    },

    async close() {
      await openFiles.clear();
    },
  };
  return store;
}
