/**
 * The fs store's on-disk framing: body, metadata JSON, then an 8-byte trailer
 * ("RGC1" + big-endian uint32 metadata length). Keeping metadata after the
 * body lets a fill append bytes as they arrive and still commit body and
 * metadata in one rename.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ObjectMeta } from '../../core/store.js';
import { metaFromRecord } from '../meta-fields.js';

const MAGIC = 0x52474331; // "RGC1"
const TRAILER = 8;
const MAX_META = 64 * 1024;
/** Bytes read from the end of a larger file: the trailer and, nearly always, all of the metadata JSON. */
const TAIL = 4096;

/** Encodes metadata + trailer to append after the body. */
export function encodeTrailer(meta: ObjectMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const t = Buffer.alloc(TRAILER);
  t.writeUInt32BE(MAGIC, 0);
  t.writeUInt32BE(json.length, 4);
  return Buffer.concat([json, t]);
}

/** A checked object file: its metadata and, when the read covered them, the first bytes of the file. */
export interface TrailerRead {
  meta: ObjectMeta;
  /** File size (body + metadata + trailer). */
  fileSize: number;
  /** Bytes [0, head.length) of the file when the tail read reached the start of the file; else undefined. */
  head: Buffer | undefined;
}

/**
 * Reads and checks the trailer; undefined when the file is not a whole object.
 * One fstat and, for metadata up to about 4 KiB, one read into `tail`: a
 * file no larger than `tail` is read whole (`head` is then a view of it),
 * a larger one only its last 4 KiB. Every step is a thread-pool round trip
 * on the request's critical path, so they are kept few.
 */
export async function readTrailer(fh: FileHandle, tail: Buffer = Buffer.allocUnsafe(TAIL)): Promise<TrailerRead | undefined> {
  const { size } = await fh.stat();
  if (size < TRAILER) return undefined;
  const n = size <= tail.length ? size : Math.min(TAIL, tail.length);
  const { bytesRead } = await fh.read(tail, 0, n, size - n);
  if (bytesRead !== n) return undefined;
  const t = tail.subarray(n - TRAILER, n);
  if (t.readUInt32BE(0) !== MAGIC) return undefined;
  const len = t.readUInt32BE(4);
  if (len > MAX_META || len + TRAILER > size) return undefined;
  let json: Buffer;
  if (len + TRAILER <= n) {
    json = tail.subarray(n - TRAILER - len, n - TRAILER);
  } else {
    json = Buffer.alloc(len);
    await fh.read(json, 0, len, size - TRAILER - len);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    return undefined;
  }
  const meta = typeof parsed === 'object' && parsed !== null ? metaFromRecord(parsed as Record<string, unknown>) : undefined;
  if (!meta || meta.size !== size - TRAILER - len) return undefined;
  return { meta, fileSize: size, head: n === size ? tail.subarray(0, n) : undefined };
}
