/**
 * h1 hashes computed from the cached copy of a zip through the Store
 * contract (random access by ranged reads), so it works for every backend
 * and never needs the zip in memory.
 *
 * A zip that fails to hash (a bomb, a broken archive) fails the same way
 * every time: the failure is remembered per key and stored sha256, so the
 * CPU is spent once, not on every request that wants the hash.
 */
import { PassThrough, Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { ZipFile } from 'yauzl';
import { RegcacheError } from '../../core/errors.js';
import { FailureMemo } from '../../core/failure-memo.js';
import { DEFAULT_INFLATE_LIMITS, type InflateLimits } from '../../core/inflate-limits.js';
import { lendsChunks, type ChunkLender, type Store } from '../../core/store.js';
import { h1FromOpenZip } from './h1-hash.js';

/** Small reads (directory records, local headers) are served from one block read ahead this large. */
const READ_BLOCK = 64 * 1024;

/**
 * yauzl reader over ranged store reads. yauzl reads the central directory
 * one record at a time; without the read-ahead block every record would be
 * a ranged store read of its own, and a zip of many entries would cost
 * seconds before a byte is inflated.
 */
class StoreReader extends yauzl.RandomAccessReader {
  /** Which body lent each chunk: the hash hands a chunk back once it consumed it. */
  private readonly lenders = new WeakMap<Buffer, ChunkLender>();
  private block: { start: number; bytes: Buffer } | undefined;

  constructor(
    private readonly store: Store,
    private readonly key: string,
    private readonly size: number,
  ) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    if (length > READ_BLOCK) {
      super.read(buffer, offset, length, position, callback);
      return;
    }
    const serve = (block: { start: number; bytes: Buffer }): void => {
      const from = position - block.start;
      if (from < 0 || from + length > block.bytes.length) {
        callback(new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cached zip shorter than its size'));
        return;
      }
      block.bytes.copy(buffer, offset, from, from + length);
      // Asynchronously, so a directory of many records neither grows the stack nor starves the event loop.
      setImmediate(callback, null);
    };
    const cached = this.block;
    if (cached !== undefined && position >= cached.start && position + length <= cached.start + cached.bytes.length) {
      serve(cached);
      return;
    }
    this.readBlock(position).then(
      (block) => {
        this.block = block;
        serve(block);
      },
      (err: unknown) => callback(storageError(err)),
    );
  }

  private async readBlock(start: number): Promise<{ start: number; bytes: Buffer }> {
    const end = Math.min(this.size, start + READ_BLOCK);
    if (end <= start) return { start, bytes: Buffer.alloc(0) };
    const opened = await this.store.open(this.key, { start, end: end - 1 });
    if (!opened) throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cached zip vanished');
    const bytes = Buffer.alloc(end - start);
    let at = 0;
    for await (const chunk of opened.body as AsyncIterable<Buffer>) {
      at += chunk.copy(bytes, at);
      if (lendsChunks(opened.body)) opened.body.releaseChunk(chunk);
    }
    return { start, bytes: bytes.subarray(0, at) };
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end <= start) return Readable.from([]);
    // pipe() keeps backpressure: a 200 MB entry is hashed as it is read, never buffered.
    const out = new PassThrough();
    this.store.open(this.key, { start, end: end - 1 }).then(
      (opened) => {
        if (!opened) {
          out.destroy(new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cached zip vanished'));
          return;
        }
        opened.body.on('error', (e) => out.destroy(storageError(e)));
        const body = opened.body;
        if (lendsChunks(body)) body.on('data', (chunk: Buffer) => this.lenders.set(chunk, body));
        out.once('close', () => opened.body.destroy());
        opened.body.pipe(out);
      },
      (err: unknown) => out.destroy(storageError(err)),
    );
    return out;
  }

  /** Hands a chunk back to the body that lent it. */
  release(chunk: Buffer): void {
    this.lenders.get(chunk)?.releaseChunk(chunk);
    this.lenders.delete(chunk);
  }
}

/** Store trouble is never the zip's fault (and never remembered as such). */
function storageError(err: unknown): RegcacheError {
  if (err instanceof RegcacheError) return err;
  return new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cannot read cached zip', { cause: err });
}

/** How stored zips are hashed. */
export interface StoredZipOptions {
  limits?: Readonly<InflateLimits>;
  /** Stops the hash (server shutdown). */
  signal?: AbortSignal;
}

/** Computes the h1 hash of a cached zip. */
export async function h1FromStoredZip(store: Store, key: string, opts: StoredZipOptions = {}): Promise<string> {
  const meta = await store.stat(key);
  if (!meta) throw new RegcacheError('ERR_NOT_FOUND', 'zip not cached');
  return hashOpened(store, key, meta.size, opts);
}

async function hashOpened(store: Store, key: string, size: number, opts: StoredZipOptions): Promise<string> {
  const reader = new StoreReader(store, key, size);
  const zip = await new Promise<ZipFile>((resolve, reject) => {
    // autoClose off: the whole directory is read before the first entry is opened.
    yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, z) => {
      if (err) reject(err instanceof RegcacheError ? err : new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'provider zip is malformed', { cause: err }));
      else resolve(z);
    });
  });
  return h1FromOpenZip(zip, { limits: opts.limits ?? DEFAULT_INFLATE_LIMITS, release: (chunk) => reader.release(chunk), ...(opts.signal ? { signal: opts.signal } : {}) });
}

/** Hashes stored zips, remembering which ones failed. */
export interface StoredZipHasher {
  /** The h1 hash of the zip stored at `key`; a zip that failed before fails again at once. */
  h1(key: string, signal?: AbortSignal): Promise<string>;
}

/** Creates a hasher with its own failure memory (one per mode instance). */
export function createStoredZipHasher(store: Store, opts: { limits: Readonly<InflateLimits>; failureTtlMs: number }): StoredZipHasher {
  const failures = new FailureMemo(opts.failureTtlMs);
  return {
    async h1(key, signal) {
      const meta = await store.stat(key);
      if (!meta) throw new RegcacheError('ERR_NOT_FOUND', 'zip not cached');
      // The same bytes fail the same way; only the archive's own faults are remembered, never aborts or storage trouble.
      return failures.run(`${key}\n${meta.sha256}`, () => hashOpened(store, key, meta.size, { limits: opts.limits, ...(signal ? { signal } : {}) }), (err) => err.code === 'ERR_UPSTREAM_BAD_RESPONSE');
    },
  };
}
