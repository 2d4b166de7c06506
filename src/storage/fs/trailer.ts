/**
 * The fs store's on-disk framing: body, metadata JSON, then an 8-byte trailer
 * ("RGC1" + big-endian uint32 metadata length). Keeping metadata after the
 * body lets a fill append bytes as they arrive and still commit body and
 * metadata in one rename.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ObjectMeta } from '../store.js';

const MAGIC = 0x52474331; // "RGC1"
const TRAILER = 8;
const MAX_META = 64 * 1024;

/** Encodes metadata + trailer to append after the body. */
export function encodeTrailer(meta: ObjectMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const t = Buffer.alloc(TRAILER);
  t.writeUInt32BE(MAGIC, 0);
  t.writeUInt32BE(json.length, 4);
  return Buffer.concat([json, t]);
}

/** Reads and checks the trailer; undefined when the file is not a whole object. */
export async function readTrailer(fh: FileHandle): Promise<ObjectMeta | undefined> {
  const { size } = await fh.stat();
  if (size < TRAILER) return undefined;
  const t = Buffer.alloc(TRAILER);
  await fh.read(t, 0, TRAILER, size - TRAILER);
  if (t.readUInt32BE(0) !== MAGIC) return undefined;
  const len = t.readUInt32BE(4);
  if (len > MAX_META || len + TRAILER > size) return undefined;
  const json = Buffer.alloc(len);
  await fh.read(json, 0, len, size - TRAILER - len);
  let meta: unknown;
  try {
    meta = JSON.parse(json.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isMeta(meta) || meta.size !== size - TRAILER - len) return undefined;
  return meta;
}

function isMeta(v: unknown): v is ObjectMeta {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return (
    typeof m.size === 'number' &&
    typeof m.sha256 === 'string' &&
    typeof m.contentType === 'string' &&
    typeof m.storedAt === 'number' &&
    (m.attrs === undefined || (typeof m.attrs === 'object' && m.attrs !== null))
  );
}
