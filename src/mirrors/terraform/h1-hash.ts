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
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { RegcacheError } from '../../core/errors.js';

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
const NEWLINE = 0x0a;
const SLASH = 0x2f;
const DATA_DESCRIPTOR_FLAG = 0x8;
const STORED = 0;
const DEFLATED = 8;
const CREATOR_UNIX = 3;
const CREATOR_MACOSX = 19;
const CREATOR_MSDOS = new Set([0, 11, 14]);
const UNIX_TYPE_MASK = 0o170000;
const UNIX_TYPE_DIR = 0o040000;
const MSDOS_DIR_ATTR = 0x10;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** One file entry: its raw name and the SHA-256 of its content. */
interface EntryDigest {
  readonly name: Buffer;
  digest: Buffer;
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
export async function h1FromZipFile(path: string): Promise<string> {
  const zip = await openZip(path);
  const entries = await hashEntries(zip);
  return h1FromDigests(entries);
}

/**
 * The `h1:` hash of an already opened zip (any yauzl source, e.g. ranged
 * reads from a remote store), so stored artifacts need no local path.
 * `release` gets every raw chunk of entry data once nothing reads it any
 * more (hashed, or consumed by the inflater), so a source that lends
 * pooled buffers gets them back instead of leaving them to the GC.
 */
export async function h1FromOpenZip(zip: ZipFile, release?: (chunk: Buffer) => void): Promise<string> {
  return h1FromDigests(await hashEntries(zip, release));
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
      { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true },
      (err, zip) => {
        if (err) reject(zipError(err));
        else resolve(zip);
      },
    );
  });
}

/**
 * Walks the central directory, hashing at most MAX_PARALLEL_ENTRIES file
 * entries at a time and skipping directories. Results keep central directory
 * order so a duplicated name resolves to its last entry, as unpacking does.
 */
function hashEntries(zip: ZipFile, release: (chunk: Buffer) => void = () => undefined): Promise<EntryDigest[]> {
  return new Promise((resolve, reject) => {
    const results: EntryDigest[] = [];
    const active = new Set<Readable>();
    let inFlight = 0;
    let reading = false;
    let ended = false;
    let failed = false;

    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      for (const stream of active) stream.destroy();
      zip.close();
      reject(zipError(err));
    };
    const pump = (): void => {
      if (failed || ended || reading || inFlight >= MAX_PARALLEL_ENTRIES) return;
      reading = true;
      zip.readEntry();
    };
    const settle = (): void => {
      if (!failed && ended && inFlight === 0) resolve(results);
    };

    zip.on('entry', (entry: Entry) => {
      reading = false;
      if (failed) return;
      const name = entry.fileNameRaw;
      if (name.includes(NEWLINE)) {
        fail(new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'zip entry name contains a newline'));
        return;
      }
      if (isDirectory(entry)) {
        pump();
        return;
      }
      const item: EntryDigest = { name, digest: Buffer.alloc(0) };
      results.push(item);
      inFlight += 1;
      hashEntry(zip, entry, active, release).then(
        (digest) => {
          item.digest = digest;
          inFlight -= 1;
          settle();
          pump();
        },
        fail,
      );
      pump();
    });
    zip.on('end', () => {
      ended = true;
      settle();
    });
    zip.on('error', fail);
    pump();
  });
}

/** Go's archive/zip notion of a directory: trailing slash or directory mode bits. */
function isDirectory(entry: Entry): boolean {
  const name = entry.fileNameRaw;
  if (name.length > 0 && name[name.length - 1] === SLASH) return true;
  const creator = entry.versionMadeBy >> 8;
  if (creator === CREATOR_UNIX || creator === CREATOR_MACOSX) {
    return ((entry.externalFileAttributes >>> 16) & UNIX_TYPE_MASK) === UNIX_TYPE_DIR;
  }
  if (CREATOR_MSDOS.has(creator)) return (entry.externalFileAttributes & MSDOS_DIR_ATTR) !== 0;
  return false;
}

/**
 * SHA-256 of one file entry's content, size- and CRC-checked as Go's
 * archive/zip does. The entry's raw bytes are read undecoded and inflated
 * here, one chunk at a time: a chunk is handed to `release` once the
 * inflater's write callback says it was consumed (or, stored, once hashed).
 */
async function hashEntry(zip: ZipFile, entry: Entry, active: Set<Readable>, release: (chunk: Buffer) => void): Promise<Buffer> {
  if (entry.isEncrypted()) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'zip entry is encrypted');
  }
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `unsupported zip compression method ${entry.compressionMethod}`);
  }
  const raw = await zip.openReadStreamPromise(entry, { decodeFileData: false });
  active.add(raw);
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;
  const take = (chunk: Buffer): void => {
    hash.update(chunk);
    crc = crc32(chunk, crc);
    size += chunk.length;
  };
  try {
    if (entry.compressionMethod === STORED) {
      for await (const chunk of raw as AsyncIterable<Buffer>) {
        take(chunk);
        release(chunk);
      }
    } else {
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
    if (size !== entry.uncompressedSize) {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'zip entry size differs from its directory entry');
    }
    const crcExpected = entry.crc32 !== 0 || (entry.generalPurposeBitFlag & DATA_DESCRIPTOR_FLAG) !== 0;
    if (crcExpected && crc !== entry.crc32) {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'zip entry CRC-32 mismatch');
    }
    return hash.digest();
  } finally {
    active.delete(raw);
  }
}

/** Local file trouble is storage; anything else means the archive is broken. */
function zipError(err: unknown): RegcacheError {
  if (err instanceof RegcacheError) return err;
  if (err instanceof Error && 'syscall' in err) {
    return new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cannot read provider zip', { cause: err });
  }
  return new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'provider zip is malformed', { cause: err });
}
