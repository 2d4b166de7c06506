/**
 * A zip's central directory, read completely and checked before a single
 * byte is inflated: the entry count, every entry's declared sizes and ratio
 * against the inflate budget, and the layout. Each entry's local header and
 * data must lie between its own offset and the next entry's (or the central
 * directory), so no two entries share compressed bytes: the classic zip bomb
 * names one highly compressed kernel thousands of times.
 */
import type { Entry, ZipFile } from 'yauzl';
import { unpackRefused, type InflateBudget } from '../../core/inflate-limits.js';
import { RegcacheError } from '../../core/errors.js';

/** One directory entry and the bounds its data must keep. */
export interface LaidOutEntry {
  entry: Entry;
  /** Go's archive/zip notion of a directory: nothing to hash. */
  directory: boolean;
  /** Offset the entry's data must end at or before: the next entry's local header, or the central directory. */
  limit: number;
}

const NEWLINE = 0x0a;
const SLASH = 0x2f;
const STORED = 0;
const DEFLATED = 8;
const LOCAL_HEADER_BYTES = 30;
const CREATOR_UNIX = 3;
const CREATOR_MACOSX = 19;
const CREATOR_MSDOS = new Set([0, 11, 14]);
const UNIX_TYPE_MASK = 0o170000;
const UNIX_TYPE_DIR = 0o040000;
const MSDOS_DIR_ATTR = 0x10;

/**
 * Reads every directory entry of `zip` (opened with lazyEntries) in
 * directory order and checks it against `budget`; throws a clear
 * ERR_UPSTREAM_BAD_RESPONSE naming the first rule broken.
 */
export async function readZipLayout(zip: ZipFile, budget: InflateBudget): Promise<LaidOutEntry[]> {
  budget.entries(zip.entryCount);
  // yauzl starts reading the directory at its offset; the typings call the field a boolean.
  const directoryStart = Number((zip as unknown as { readEntryCursor: number }).readEntryCursor);
  const entries = await readAll(zip, budget);
  const laid = entries.map((entry) => ({ entry, directory: isDirectory(entry), limit: directoryStart }));
  for (const item of laid) {
    if (!item.directory) checkEntry(item.entry, budget);
  }
  const byOffset = [...laid].sort((a, b) => a.entry.relativeOffsetOfLocalHeader - b.entry.relativeOffsetOfLocalHeader);
  byOffset.forEach((item, i) => {
    const next = byOffset[i + 1];
    item.limit = next === undefined ? directoryStart : next.entry.relativeOffsetOfLocalHeader;
    const smallestEnd = item.entry.relativeOffsetOfLocalHeader + LOCAL_HEADER_BYTES + item.entry.compressedSize;
    if (smallestEnd > item.limit) {
      throw unpackRefused(next === undefined ? 'zip entry data lies outside the entries area (out of bounds)' : 'zip entries overlap');
    }
  });
  return laid;
}

/**
 * Checks that an entry's data, now that its local header says where it
 * starts, still ends within its bounds (local headers may carry an extra
 * field the directory does not show).
 */
export function checkDataBounds(item: LaidOutEntry, fileDataStart: number): void {
  if (fileDataStart + item.entry.compressedSize > item.limit) throw unpackRefused('zip entries overlap');
}

function readAll(zip: ZipFile, budget: InflateBudget): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    const fail = (err: unknown): void => {
      zip.close();
      reject(err instanceof RegcacheError ? err : new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'provider zip is malformed', { cause: err }));
    };
    zip.on('entry', (entry: Entry) => {
      try {
        budget.checkAborted();
        if (entry.fileNameRaw.includes(NEWLINE)) throw unpackRefused('zip entry name contains a newline');
        entries.push(entry);
      } catch (err) {
        fail(err);
        return;
      }
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', fail);
    zip.readEntry();
  });
}

/** Method, encryption and declared sizes of a file entry, before anything is read. */
function checkEntry(entry: Entry, budget: InflateBudget): void {
  if (entry.isEncrypted()) throw unpackRefused('zip entry is encrypted');
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
    throw unpackRefused(`unsupported zip compression method ${entry.compressionMethod}`);
  }
  if (entry.compressionMethod === STORED && entry.compressedSize !== entry.uncompressedSize) {
    throw unpackRefused('stored zip entry sizes disagree');
  }
  budget.declare(entry.compressedSize, entry.uncompressedSize, 'zip entry');
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
