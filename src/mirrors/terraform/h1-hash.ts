/**
 * Terraform package hashes. Lock files and network-mirror indexes record
 * both, and Terraform rejects a package whose hashes differ, so they must
 * match Terraform byte-for-byte.
 *
 * `h1:` is Go's dirhash `Hash1`. Terraform computes it over the *unpacked*
 * package (`dirhash.HashDir`), not with `HashZip`: directory entries do not
 * appear, and a name stored twice is one file holding the last entry's bytes.
 * Checked against `terraform providers lock` 1.11. `zh:` is the legacy form,
 * the archive's SHA-256 as published in SHA256SUMS.
 *
 * The zip comes from an upstream and may be hostile: its directory is read
 * and checked first (zip-layout.ts: no overlapping or out-of-bounds
 * entries, declared sizes and ratios within the inflate limits), and every
 * inflated chunk counts against the budget, so a bomb fails at the first
 * chunk past a limit. A signal (server shutdown) stops the work.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import type { ZipFile } from 'yauzl';
import { RegcacheError } from '../../core/errors.js';
import { abortError, DEFAULT_INFLATE_LIMITS, InflateBudget, unpackRefused, type InflateLimits } from '../../core/inflate-limits.js';
import { checkDataBounds, readZipLayout, type LaidOutEntry } from './zip-layout.js';

/** Entries hashed at once: enough to overlap I/O, few enough to bound memory. */
const MAX_PARALLEL_ENTRIES = 4;
/**
 * Bytes per inflated chunk. Every chunk is a new buffer that only a young-
 * generation GC frees, and how many chunks pass between two of those depends
 * on the JS objects made per chunk, not on their size. For a 200 MB entry
 * (`node --expose-gc dist/bench/h1-memory.js`): zlib's default 16 KiB raised
 * peak RSS by 27.5 MB in 0.5 s, 8 KiB by 17 MB, 4 KiB by 9–12 MB in 0.8–0.9 s.
 * h1 runs once per artifact, in the background, so memory wins.
 */
const INFLATE_CHUNK = 4 * 1024;
const DATA_DESCRIPTOR_FLAG = 0x8;
const STORED = 0;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** One file entry: its raw name and the SHA-256 of its content. */
interface EntryDigest {
  readonly name: Buffer;
  digest: Buffer;
}

/** How one hash may run. */
export interface HashZipOptions {
  /** Inflate limits (default: DEFAULT_INFLATE_LIMITS). */
  limits?: Readonly<InflateLimits>;
  /** Stops the hash (server shutdown); it rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Gets every raw chunk of entry data once nothing reads it any more
   * (hashed, or consumed by the inflater), so a source that lends pooled
   * buffers gets them back instead of leaving them to the GC.
   */
  release?: (chunk: Buffer) => void;
}

/** Hex SHA-256, the form SHA256SUMS and `zh:` hashes use. */
export function sha256Hex(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * Legacy `zh:` hash from an archive's SHA-256. Validated so a malformed
 * upstream checksum cannot end up in a lock file.
 */
export function zhFromSha256Hex(hex: string): string {
  if (!HEX_SHA256.test(hex)) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'not a lowercase hex SHA-256');
  }
  return `zh:${hex}`;
}

/**
 * Terraform's `h1:` hash of a provider zip on disk, computed by streaming
 * entries so large providers never sit in memory. Names are the raw bytes
 * from the central directory, as Go's archive/zip sees them.
 */
export async function h1FromZipFile(path: string, opts: HashZipOptions = {}): Promise<string> {
  return h1FromOpenZip(await openZip(path), opts);
}

/**
 * The `h1:` hash of an already opened zip (any yauzl source opened with
 * lazyEntries, e.g. ranged reads from a remote store), so stored artifacts
 * need no local path.
 */
export async function h1FromOpenZip(zip: ZipFile, opts: HashZipOptions = {}): Promise<string> {
  const budget = new InflateBudget(opts.limits ?? DEFAULT_INFLATE_LIMITS, opts.signal);
  try {
    const layout = await readZipLayout(zip, budget);
    return h1FromDigests(await hashEntries(zip, layout, budget, opts));
  } finally {
    zip.close();
  }
}

/**
 * Go's Hash1 over the files unpacking would leave: one line per distinct
 * name (later entries overwrite earlier ones), sorted byte-wise, hashed.
 */
function h1FromDigests(entries: EntryDigest[]): string {
  const files = new Map<string, EntryDigest>();
  for (const e of entries) files.set(e.name.toString('latin1'), e);
  const sorted = [...files.values()].sort((a, b) => Buffer.compare(a.name, b.name));
  const summary = createHash('sha256');
  for (const file of sorted) {
    summary.update(`${file.digest.toString('hex')}  `);
    summary.update(file.name);
    summary.update('\n');
  }
  return `h1:${summary.digest('base64')}`;
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
      (err, zip) => {
        if (err) reject(zipError(err));
        else resolve(zip);
      },
    );
  });
}

/**
 * Hashes the file entries, at most MAX_PARALLEL_ENTRIES at a time, skipping
 * directories. Results keep central directory order so a duplicated name
 * resolves to its last entry, as unpacking does. The first failure (or the
 * signal) destroys every open stream and rejects.
 */
async function hashEntries(zip: ZipFile, layout: LaidOutEntry[], budget: InflateBudget, opts: HashZipOptions): Promise<EntryDigest[]> {
  const files = layout.filter((item) => !item.directory);
  const results: EntryDigest[] = files.map((item) => ({ name: item.entry.fileNameRaw, digest: Buffer.alloc(0) }));
  const active = new Set<Readable>();
  const release = opts.release ?? ((): void => undefined);
  let failure: RegcacheError | undefined;
  const stopped = new AbortController();
  const stopAll = (err: unknown): void => {
    failure ??= zipError(err);
    stopped.abort();
    for (const stream of active) stream.destroy();
  };
  const { signal } = opts;
  const onAbort = (): void => {
    if (signal) stopAll(abortError(signal));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < files.length) {
      const i = next++;
      const item = files[i] as LaidOutEntry;
      try {
        (results[i] as EntryDigest).digest = await hashEntry(zip, item, budget, { active, stopped: stopped.signal }, release);
      } catch (err) {
        stopAll(err);
      }
    }
  };
  try {
    budget.checkAborted();
    await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_ENTRIES, files.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure;
  return results;
}

/** The streams of one hash run, and whether the run was stopped. */
interface EntryRun {
  active: Set<Readable>;
  stopped: AbortSignal;
}

/**
 * SHA-256 of one file entry's content, size- and CRC-checked as Go's
 * archive/zip does, and checked against its bounds and the budget as it is
 * read. The raw bytes are read undecoded and inflated here, one chunk at a
 * time: a chunk is handed to `release` once the inflater's write callback
 * says it was consumed (or, stored, once hashed).
 */
async function hashEntry(zip: ZipFile, item: LaidOutEntry, budget: InflateBudget, run: EntryRun, release: (chunk: Buffer) => void): Promise<Buffer> {
  const { entry } = item;
  const { active } = run;
  const { fileDataStart } = await readLocalHeader(zip, item);
  checkDataBounds(item, fileDataStart);
  budget.checkAborted();
  const raw = await openRaw(zip, fileDataStart, entry.compressedSize);
  active.add(raw);
  // Another entry may have failed while this one was opening: its streams were destroyed before this one existed.
  if (run.stopped.aborted) raw.destroy();
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;
  // Set by `take` when a limit breaks, so the inflater's follow-up errors do not hide it.
  let broken: unknown;
  const take = (chunk: Buffer): void => {
    try {
      size += chunk.length;
      if (size > entry.uncompressedSize) throw unpackRefused(`zip entry inflates past its declared size of ${entry.uncompressedSize} bytes`);
      budget.take(chunk.length);
    } catch (err) {
      broken ??= err;
      throw err;
    }
    hash.update(chunk);
    crc = crc32(chunk, crc);
  };
  try {
    if (entry.compressionMethod === STORED) {
      for await (const chunk of raw as AsyncIterable<Buffer>) {
        take(chunk);
        release(chunk);
      }
    } else {
      await inflateInto(raw, take, release, active);
    }
  } catch (err) {
    throw broken ?? err;
  } finally {
    active.delete(raw);
    raw.destroy();
  }
  if (size !== entry.uncompressedSize) {
    throw unpackRefused('zip entry size differs from its directory entry');
  }
  const crcExpected = entry.crc32 !== 0 || (entry.generalPurposeBitFlag & DATA_DESCRIPTOR_FLAG) !== 0;
  if (crcExpected && crc !== entry.crc32) {
    throw unpackRefused('zip entry CRC-32 mismatch');
  }
  return hash.digest();
}

/** Inflates `raw` chunk by chunk into `take`; a throw from `take` stops the inflater and rejects. */
async function inflateInto(raw: Readable, take: (chunk: Buffer) => void, release: (chunk: Buffer) => void, active: Set<Readable>): Promise<void> {
  const inflate = createInflateRaw({ chunkSize: INFLATE_CHUNK });
  active.add(inflate);
  const inflated = (async (): Promise<void> => {
    for await (const out of inflate as AsyncIterable<Buffer>) take(out);
  })();
  // Observed below; a failure here also fails the pending write.
  inflated.catch(() => undefined);
  try {
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      await new Promise<void>((resolve, reject) => {
        inflate.write(chunk, (err) => (err ? reject(err) : resolve()));
      });
      release(chunk);
    }
    inflate.end();
    await inflated;
  } finally {
    active.delete(inflate);
    inflate.destroy();
  }
}

function readLocalHeader(zip: ZipFile, item: LaidOutEntry): Promise<{ fileDataStart: number }> {
  return new Promise((resolve, reject) => {
    zip.readLocalFileHeader(item.entry, { minimal: true }, (err, header) => (err ? reject(zipError(err)) : resolve(header)));
  });
}

/** The entry's raw (still compressed) bytes, exactly `compressedSize` of them. */
function openRaw(zip: ZipFile, fileDataStart: number, compressedSize: number): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStreamLowLevel(fileDataStart, compressedSize, 0, compressedSize, false, null, (err, stream) => (err ? reject(zipError(err)) : resolve(stream)));
  });
}

/** Local file trouble is storage; anything else means the archive is broken. */
function zipError(err: unknown): RegcacheError {
  if (err instanceof RegcacheError) return err;
  if (err instanceof Error && 'syscall' in err) {
    return new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cannot read provider zip', { cause: err });
  }
  return new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'provider zip is malformed', { cause: err });
}
