/**
 * h1 hashes computed from the cached copy of a zip through the Store
 * contract (random access by ranged reads), so it works for every backend
 * and never needs the zip in memory.
 */
import { PassThrough, Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { ZipFile } from 'yauzl';
import { RegcacheError } from '../../core/errors.js';
import { lendsChunks, type ChunkLender, type Store } from '../../core/store.js';
import { h1FromOpenZip } from './h1-hash.js';

/** yauzl reader over ranged store reads. */
class StoreReader extends yauzl.RandomAccessReader {
  /** Which body lent each chunk: the hash hands a chunk back once it consumed it. */
  private readonly lenders = new WeakMap<Buffer, ChunkLender>();

  constructor(
    private readonly store: Store,
    private readonly key: string,
  ) {
    super();
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
        opened.body.on('error', (e) => out.destroy(e));
        const body = opened.body;
        if (lendsChunks(body)) body.on('data', (chunk: Buffer) => this.lenders.set(chunk, body));
        out.once('close', () => opened.body.destroy());
        opened.body.pipe(out);
      },
      (err: unknown) => out.destroy(err as Error),
    );
    return out;
  }

  /** Hands a chunk back to the body that lent it. */
  release(chunk: Buffer): void {
    this.lenders.get(chunk)?.releaseChunk(chunk);
    this.lenders.delete(chunk);
  }
}

/** Computes the h1 hash of a cached zip. */
export async function h1FromStoredZip(store: Store, key: string): Promise<string> {
  const meta = await store.stat(key);
  if (!meta) throw new RegcacheError('ERR_NOT_FOUND', 'zip not cached');
  const reader = new StoreReader(store, key);
  const zip = await new Promise<ZipFile>((resolve, reject) => {
    yauzl.fromRandomAccessReader(reader, meta.size, { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true }, (err, z) => {
      if (err) reject(new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'provider zip is malformed', { cause: err }));
      else resolve(z);
    });
  });
  return h1FromOpenZip(zip, (chunk) => reader.release(chunk));
}
