/**
 * Hostile zips written byte by byte, for the tests that prove regcache
 * unpacks upstream archives within bounds: central directory entries that
 * all point at one compressed kernel (overlap), sizes that lie, wrong CRCs,
 * entries outside the file, and long runs of zeros made cheaply (a deflate
 * segment ending in a full flush can be repeated, so gigabytes of inflated
 * data cost the test megabytes and no compression time).
 */
import { constants, deflateRawSync } from 'node:zlib';

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const DEFLATED = 8;
const STORED = 0;
/** Unix, zip spec 2.0. */
const MADE_BY_UNIX = 0x0314;
const FILE_MODE = 0o100644;
/** A final, empty fixed-Huffman block: ends a stream built from flushed segments. */
const FINAL_EMPTY_BLOCK = Buffer.from([0x03, 0x00]);

const SEGMENT = 64 * 1024 * 1024;
const flushedSegments = new Map<number, Buffer>();

/** One stored blob of entry data and the local header in front of it. */
export interface ZipBlob {
  name: string;
  data: Buffer;
  /** Declared in both headers; defaults to the true inflated size when `inflated` is given. */
  uncompressedSize: number;
  crc32: number;
  method?: 'deflate' | 'store';
}

/** One central directory record; `blob` is the index of the local entry it points at. */
export interface ZipRecord {
  name: string;
  blob: number;
  /** Overrides the blob's declared size (a lie) in the central directory. */
  uncompressedSize?: number;
  /** Overrides the local header offset (e.g. past the end of the file). */
  offset?: number;
}

/**
 * Writes local entries in order, then a central directory of `records`
 * (default: one per blob), then the end record. No data descriptors, no
 * zip64: every size must fit 32 bits.
 */
export function buildZip(blobs: ZipBlob[], records?: ZipRecord[]): Buffer {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const blob of blobs) {
    offsets.push(at);
    const name = Buffer.from(blob.name);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(LOCAL_SIG, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(0, 6);
    head.writeUInt16LE(blob.method === 'store' ? STORED : DEFLATED, 8);
    head.writeUInt32LE(0, 10);
    head.writeUInt32LE(blob.crc32 >>> 0, 14);
    head.writeUInt32LE(blob.data.length, 18);
    head.writeUInt32LE(blob.uncompressedSize, 22);
    head.writeUInt16LE(name.length, 26);
    head.writeUInt16LE(0, 28);
    parts.push(head, name, blob.data);
    at += head.length + name.length + blob.data.length;
  }
  const cdStart = at;
  const list: ZipRecord[] = records ?? blobs.map((b, i) => ({ name: b.name, blob: i }));
  for (const record of list) {
    const blob = blobs[record.blob];
    if (blob === undefined) throw new Error(`record ${record.name} names no blob`);
    const name = Buffer.from(record.name);
    const head = Buffer.alloc(46);
    head.writeUInt32LE(CENTRAL_SIG, 0);
    head.writeUInt16LE(MADE_BY_UNIX, 4);
    head.writeUInt16LE(20, 6);
    head.writeUInt16LE(0, 8);
    head.writeUInt16LE(blob.method === 'store' ? STORED : DEFLATED, 10);
    head.writeUInt32LE(0, 12);
    head.writeUInt32LE(blob.crc32 >>> 0, 16);
    head.writeUInt32LE(blob.data.length, 20);
    head.writeUInt32LE(record.uncompressedSize ?? blob.uncompressedSize, 24);
    head.writeUInt16LE(name.length, 28);
    head.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
    head.writeUInt32LE(record.offset ?? offsets[record.blob] ?? 0, 42);
    parts.push(head, name);
    at += head.length + name.length;
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_SIG, 0);
  end.writeUInt16LE(list.length, 8);
  end.writeUInt16LE(list.length, 10);
  end.writeUInt32LE(at - cdStart, 12);
  end.writeUInt32LE(cdStart, 16);
  parts.push(end);
  return Buffer.concat(parts);
}

/**
 * A raw deflate stream inflating to `segments` × `segmentBytes` zeros:
 * one flushed segment compressed once and repeated, then a final empty
 * block. Real zlib output, at zlib's best ratio for zeros (about 1030:1).
 */
export function zerosDeflate(segmentBytes: number, segments: number): Buffer {
  let segment = flushedSegments.get(segmentBytes);
  if (segment === undefined) {
    segment = deflateRawSync(Buffer.alloc(segmentBytes), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
    flushedSegments.set(segmentBytes, segment);
  }
  return Buffer.concat([...Array.from({ length: segments }, () => segment), FINAL_EMPTY_BLOCK]);
}

/** `bytes` zeros as raw deflate, in 64 MiB segments (`bytes` must be a multiple of 64 MiB above it). */
function zeros(bytes: number): Buffer {
  return bytes <= SEGMENT ? zerosDeflate(bytes, 1) : zerosDeflate(SEGMENT, Math.ceil(bytes / SEGMENT));
}

/**
 * The classic overlap bomb: one kernel of `kernelBytes` zeros, named
 * `copies` times in the central directory, so a reader that does not check
 * for overlap inflates it `copies` times. CRC 0 means "unchecked" to Go's
 * archive/zip and to regcache alike.
 */
export function overlapBomb(kernelBytes: number, copies: number): Buffer {
  const blob: ZipBlob = { name: 'f0', data: zeros(kernelBytes), uncompressedSize: kernelBytes, crc32: 0 };
  return buildZip([blob], Array.from({ length: copies }, (_, i) => ({ name: `f${i}`, blob: 0 })));
}

/** One entry whose directory claims `claimed` bytes while its data inflates to `actual` zeros. */
export function lyingSizeBomb(actual: number, claimed: number): Buffer {
  const blob: ZipBlob = { name: 'small.txt', data: zeros(actual), uncompressedSize: claimed, crc32: 0 };
  return buildZip([blob]);
}

/** `entries` separate (non-overlapping) entries of `segments` × `segmentBytes` zeros each. */
export function manyZerosZip(entries: number, segmentBytes: number, segments: number): Buffer {
  const data = zerosDeflate(segmentBytes, segments);
  const size = segmentBytes * segments;
  return buildZip(Array.from({ length: entries }, (_, i) => ({ name: `part${i}.bin`, data, uncompressedSize: size, crc32: 0 })));
}
