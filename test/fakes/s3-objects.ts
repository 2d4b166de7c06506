/**
 * The fake S3 server's object store: bodies are files on disk ("blobs"), the
 * index of buckets, objects and multipart uploads lives in memory.
 *
 * Invariants:
 * - A blob is written completely before the index points at it, and the
 *   index swap is synchronous, so a PUT or CompleteMultipartUpload becomes
 *   visible atomically and a conditional write (If-None-Match: *) cannot
 *   race another writer.
 * - A replaced or deleted blob is unlinked; readers that already opened it
 *   keep reading the old bytes (POSIX semantics), like S3's per-request
 *   snapshot.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A body written to disk, with the digests S3 needs (sha256 only when asked for). */
export interface Blob {
  file: string;
  size: number;
  md5: string;
  sha256: string | undefined;
}

/** One committed object. */
export interface StoredObject {
  key: string;
  file: string;
  size: number;
  etag: string;
  contentType: string;
  /** x-amz-meta-* headers, lowercase names without the prefix. */
  userMeta: Record<string, string>;
  lastModified: Date;
}

/** One multipart upload in progress. */
export interface Upload {
  id: string;
  bucket: string;
  key: string;
  contentType: string;
  userMeta: Record<string, string>;
  parts: Map<number, Blob>;
}

/** The disk-backed index. */
export interface ObjectIndex {
  createBucket(name: string): boolean;
  hasBucket(name: string): boolean;
  get(bucket: string, key: string): StoredObject | undefined;
  /** Keys of a bucket in lexicographic (UTF-8 byte) order. */
  keys(bucket: string): string[];
  /** Streams a body to a new blob, through `decode` when given. */
  writeBlob(source: Readable, opts: { decode?: Transform; sha256: boolean }): Promise<Blob>;
  dropBlob(blob: { file: string }): Promise<void>;
  /** Makes `obj` visible; with `ifNoneMatch` refuses (false) when the key exists. */
  commit(bucket: string, obj: StoredObject, ifNoneMatch: boolean): boolean;
  delete(bucket: string, key: string): boolean;
  createUpload(bucket: string, key: string, contentType: string, userMeta: Record<string, string>): Upload;
  getUpload(id: string): Upload | undefined;
  uploadCount(): number;
  /** Forgets an upload and removes its part blobs. */
  dropUpload(id: string): Promise<void>;
  /** Concatenates blobs into one new file (no digests: a multipart ETag is built from the parts'). */
  concat(parts: readonly Blob[]): Promise<{ file: string; size: number }>;
  close(): Promise<void>;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Creates an index whose blobs live under `dir` (created if needed). */
export async function createObjectIndex(dir: string): Promise<ObjectIndex> {
  const blobs = join(dir, 'blobs');
  await mkdir(blobs, { recursive: true });
  const buckets = new Map<string, Map<string, StoredObject>>();
  const uploads = new Map<string, Upload>();
  const newFile = (): string => join(blobs, randomBytes(12).toString('hex'));
  const unlinkQuietly = (file: string): void => {
    unlink(file).catch(() => undefined);
  };

  return {
    createBucket(name) {
      if (buckets.has(name)) return false;
      buckets.set(name, new Map());
      return true;
    },

    hasBucket: (name) => buckets.has(name),

    get: (bucket, key) => buckets.get(bucket)?.get(key),

    keys: (bucket) => [...(buckets.get(bucket)?.keys() ?? [])].sort(byteOrder),

    async writeBlob(source, { decode, sha256 }) {
      const file = newFile();
      const md5 = createHash('md5');
      const sha = sha256 ? createHash('sha256') : undefined;
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          md5.update(chunk);
          sha?.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      try {
        if (decode) await pipeline(source, decode, tap, createWriteStream(file));
        else await pipeline(source, tap, createWriteStream(file));
      } catch (err) {
        await rm(file, { force: true });
        throw err;
      }
      return { file, size, md5: md5.digest('hex'), sha256: sha?.digest('hex') };
    },

    dropBlob: (blob) => rm(blob.file, { force: true }),

    commit(bucket, obj, ifNoneMatch) {
      const objects = buckets.get(bucket);
      if (!objects) throw new Error(`no bucket ${bucket}`);
      const old = objects.get(obj.key);
      if (old && ifNoneMatch) return false;
      objects.set(obj.key, obj);
      if (old) unlinkQuietly(old.file);
      return true;
    },

    delete(bucket, key) {
      const objects = buckets.get(bucket);
      const old = objects?.get(key);
      if (!objects || !old) return false;
      objects.delete(key);
      unlinkQuietly(old.file);
      return true;
    },

    createUpload(bucket, key, contentType, userMeta) {
      const upload: Upload = { id: randomBytes(16).toString('base64url'), bucket, key, contentType, userMeta, parts: new Map() };
      uploads.set(upload.id, upload);
      return upload;
    },

    getUpload: (id) => uploads.get(id),

    uploadCount: () => uploads.size,

    async dropUpload(id) {
      const upload = uploads.get(id);
      if (!upload) return;
      uploads.delete(id);
      await Promise.all([...upload.parts.values()].map((b) => rm(b.file, { force: true })));
    },

    async concat(parts) {
      const file = newFile();
      let size = 0;
      const out = await open(file, 'w');
      try {
        for (const part of parts) {
          for await (const chunk of createReadStream(part.file)) {
            const buf = chunk as Buffer;
            size += buf.length;
            let off = 0;
            while (off < buf.length) off += (await out.write(buf, off, buf.length - off)).bytesWritten;
          }
        }
      } catch (err) {
        await out.close();
        await rm(file, { force: true });
        throw err;
      }
      await out.close();
      return { file, size };
    },

    async close() {
      buckets.clear();
      uploads.clear();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
