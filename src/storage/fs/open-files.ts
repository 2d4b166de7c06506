/**
 * Descriptors of recently served objects, kept open (what nginx calls
 * open_file_cache). A warm GET then costs no open, fstat or metadata read,
 * only the body reads: each of those is a thread-pool round trip on the
 * request's critical path.
 *
 * Invariants:
 * - A descriptor is closed only once it is out of the cache and no body
 *   holds it (every reader holds a reference until its last read settled),
 *   so a read never lands on a descriptor number that was reused.
 * - An entry is used for at most `validMs` after it was opened: a file that
 *   another process deleted or replaced is seen again within that time.
 *   Deletes and commits in this process evict the key at once.
 * - Object files never change in place (they are replaced by rename), so a
 *   descriptor always reads the one version it was opened on.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ObjectMeta } from '../../core/store.js';

/** An object file as opened: descriptor and checked metadata. */
export interface OpenFile {
  fh: FileHandle;
  meta: ObjectMeta;
}

/** One reference to an open file; `release` exactly once when done reading. */
export interface FileLease {
  readonly file: OpenFile;
  release(): void;
}

interface Entry {
  file: OpenFile;
  refs: number;
  openedAt: number;
  cached: boolean;
}

/** Limits of the open-file cache. */
export interface OpenFilesOptions {
  /** Descriptors kept open at most (0 turns the cache off). */
  max: number;
  /** How long an entry may be used after it was opened, ms. */
  validMs: number;
  now?: () => number;
}

/** The open-file cache of one store. */
export class OpenFiles {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #validMs: number;
  readonly #now: () => number;
  #sweeper: NodeJS.Timeout | undefined;
  /** Bumped by every evict() and clear(): a file opened before one may be the version it evicted. */
  #epoch = 0;

  constructor(opts: OpenFilesOptions) {
    this.#max = opts.max;
    this.#validMs = opts.validMs;
    this.#now = opts.now ?? Date.now;
  }

  /** The current eviction epoch; pass it to `add` from before the open. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Descriptors currently cached (not counting evicted ones still being read). */
  get size(): number {
    return this.#entries.size;
  }

  /** A lease on the cached file for `key`, or undefined when none is cached or it is too old. */
  acquire(key: string): FileLease | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (this.#now() - e.openedAt >= this.#validMs) {
      void this.#drop(key, e);
      return undefined;
    }
    // Most recently used last: eviction takes the oldest first.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return this.#lease(e);
  }

  /**
   * Takes ownership of a file just opened for `key` and returns a lease on
   * it for the caller. It replaces any cached entry of the key. It is not
   * kept (only closed once the lease is released) with the cache off, or
   * when anything was evicted since `openedInEpoch`: a commit that replaced
   * the file while it was being opened must not leave the old version
   * cached.
   */
  add(key: string, file: OpenFile, openedInEpoch: number): FileLease {
    const e: Entry = { file, refs: 0, openedAt: this.#now(), cached: this.#max > 0 && openedInEpoch === this.#epoch };
    const lease = this.#lease(e);
    if (!e.cached) return lease;
    const old = this.#entries.get(key);
    if (old) void this.#drop(key, old);
    this.#entries.set(key, e);
    // Expired entries are also dropped while idle, so a deleted file's space is not held for long.
    this.#sweeper ??= setInterval(() => this.sweep(), this.#validMs).unref();
    while (this.#entries.size > this.#max) {
      const [oldest, entry] = this.#entries.entries().next().value ?? [];
      if (oldest === undefined || entry === undefined) break;
      void this.#drop(oldest, entry);
    }
    return lease;
  }

  /** Drops entries older than the validity (run periodically while any are cached). */
  sweep(): void {
    const t = this.#now();
    for (const [key, e] of [...this.#entries]) if (t - e.openedAt >= this.#validMs) void this.#drop(key, e);
    if (this.#entries.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** Forgets `key` (deleted or replaced by this process); its descriptor closes once unread. */
  evict(key: string): void {
    this.#epoch++;
    const e = this.#entries.get(key);
    if (e) void this.#drop(key, e);
  }

  /**
   * Evicts everything (store shutdown) and resolves once the descriptors
   * nobody reads are closed; those still being read close when their
   * readers finish.
   */
  async clear(): Promise<void> {
    this.#epoch++;
    const closing: Array<Promise<void>> = [];
    for (const [key, e] of [...this.#entries]) {
      const c = this.#drop(key, e);
      if (c) closing.push(c);
    }
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await Promise.all(closing);
  }

  #lease(e: Entry): FileLease {
    e.refs++;
    let released = false;
    return {
      file: e.file,
      release: () => {
        if (released) return;
        released = true;
        e.refs--;
        if (e.refs === 0 && !e.cached) void e.file.fh.close().catch(() => undefined);
      },
    };
  }

  /** Takes `e` out of the cache; returns its close when nobody reads it. */
  #drop(key: string, e: Entry): Promise<void> | undefined {
    if (this.#entries.get(key) === e) this.#entries.delete(key);
    if (!e.cached) return undefined;
    e.cached = false;
    if (e.refs > 0) return undefined;
    return e.file.fh.close().catch(() => undefined);
  }
}
