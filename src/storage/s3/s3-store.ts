/**
 * S3 store: one S3 object per cache key.
 *
 * Invariants:
 * - Object `<prefix><key>` holds the body; its user metadata holds the
 *   ObjectMeta (meta-codec.ts). Both become visible in one PutObject or
 *   CompleteMultipartUpload, and an object without valid metadata counts as
 *   missing, so readers never see a partial or foreign object.
 * - Pending bytes live in a local spool file (spool.ts) and are uploaded at
 *   commit (commit.ts explains the conditional-write policy).
 * - Reads answer from one GetObject, so body and meta are one snapshot.
 * - `renew` copies the object onto itself with new metadata, conditional on
 *   the ETag it read (s3-renew.ts).
 * - Keys pass assertKey before any request; internal objects (probes) use a
 *   segment starting with '.', which no key can have.
 * - Failures other than "no such object" are ERR_STORAGE_UNAVAILABLE.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { RegcacheError } from '../../core/errors.js';
import { assertKey, type ByteRange, type ListedObject, type ObjectMeta, type OpenedObject, type Store } from '../../core/store.js';
import { commitSpool, type CommitContext } from './commit.js';
import { createClient } from './s3-client.js';
import { decodeMeta } from './meta-codec.js';
import { isInvalidRange, isNotFound, storageError } from './s3-errors.js';
import { createS3Pending } from './s3-pending.js';
import { renewObject } from './s3-renew.js';
import { openSpoolFile, prepareSpool, probeSpool } from './spool.js';
import { DEFAULT_PART_SIZE, MIN_PART_SIZE } from './upload.js';

/** Options for the S3 store. Credentials come from the standard AWS chain unless given. */
export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ("regcache/"); a trailing '/' is added when missing. */
  prefix?: string;
  region: string;
  /** Custom endpoint for S3-compatible servers. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Local dir for pending objects (followers read from it; uploads stream from it). */
  spoolDir: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A ready client (its settings win over region/endpoint/credentials); not destroyed by close(). */
  client?: S3Client;
  /** Multipart part size in bytes (≥ 5 MiB, default 8 MiB); objects up to it go in one PUT. */
  partSize?: number;
  /** Use If-None-Match: * on commits (default true; turned off automatically on 501). */
  conditionalWrites?: boolean;
}

/** The S3 store, with what presigning needs. */
export interface S3Store extends Store {
  readonly bucket: string;
  readonly client: S3Client;
  /** The S3 object key of a cache key (validates the key). */
  objectKey(key: string): string;
}

const LIST_HEAD_CONCURRENCY = 8;
const MAX_TOUCHED = 100_000;
function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  if (prefix.startsWith('/') || prefix.includes('//')) throw new RegcacheError('ERR_INTERNAL', 's3 prefix must not start with "/" or contain "//"');
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

const totalFromContentRange = (v: string | undefined): number | undefined => {
  const m = v === undefined ? null : /\/(\d+)$/.exec(v);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

/** Creates an S3 store. Call init() before use. */
export function createS3Store(opts: S3StoreOptions): S3Store {
  const client = opts.client ?? createClient(opts);
  const ownsClient = opts.client === undefined;
  const { bucket, spoolDir } = opts;
  const prefix = normalizePrefix(opts.prefix);
  const lifetime = new AbortController();
  const signal = lifetime.signal;
  // Every request in flight (a streaming download included) listens on this one signal.
  setMaxListeners(0, signal);
  const objectKey = (key: string): string => {
    assertKey(key);
    return prefix + key;
  };
  // S3 keeps no access time and rewriting objects to record one would cost a copy per hit, so uses are
  // remembered in memory (per process, bounded); list() reports the later of that and the commit time.
  const touched = new Map<string, number>();
  const commits = new Set<Promise<unknown>>();

  /** HEAD an object: undefined when absent; meta undefined when present but not committed by us. */
  async function headAt(key: string): Promise<{ meta: ObjectMeta | undefined } | undefined> {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return { meta: decodeMeta(out.Metadata, out.ContentLength) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(err);
    }
  }

  const commitCtx: CommitContext = {
    client,
    bucket,
    partSize: Math.max(MIN_PART_SIZE, opts.partSize ?? DEFAULT_PART_SIZE),
    signal,
    conditional: { enabled: opts.conditionalWrites ?? true },
    head: async (key) => (await headAt(key))?.meta,
  };

  async function get(key: string, range: string | undefined): Promise<{ meta: ObjectMeta; body: Readable } | undefined> {
    let out;
    try {
      out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }), { abortSignal: signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storageError(err);
    }
    const body = out.Body;
    if (!(body instanceof Readable)) throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 's3: GetObject returned no readable body');
    const total = range ? totalFromContentRange(out.ContentRange) : out.ContentLength;
    const meta = decodeMeta(out.Metadata, total);
    if (!meta) {
      body.destroy();
      return undefined;
    }
    return { meta, body };
  }

  const store: S3Store = {
    kind: 's3',
    bucket,
    client,
    objectKey,

    async init() {
      try {
        await prepareSpool(spoolDir);
      } catch (err) {
        throw storageError(err, 'spool');
      }
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
      } catch (err) {
        throw storageError(err, `bucket ${bucket}`);
      }
    },

    async stat(key) {
      return (await headAt(objectKey(key)))?.meta;
    },

    async open(key, range?: ByteRange): Promise<OpenedObject | undefined> {
      const k = objectKey(key);
      if (range && range.end < range.start) {
        const meta = await store.stat(key);
        return meta ? { meta, body: Readable.from([]) } : undefined;
      }
      try {
        return await get(k, range ? `bytes=${range.start}-${range.end}` : undefined);
      } catch (err) {
        // A range past the end (or any range of an empty object): like fs, an empty body.
        if (!range || !(err instanceof RegcacheError) || !isInvalidRange(err.cause)) throw err;
        const meta = await store.stat(key);
        return meta ? { meta, body: Readable.from([]) } : undefined;
      }
    },

    async read(key) {
      const got = await get(objectKey(key), undefined);
      if (!got) return undefined;
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of got.body) chunks.push(chunk as Buffer);
      } catch (err) {
        throw storageError(err);
      }
      const body = Buffer.concat(chunks);
      return body.length === got.meta.size ? { meta: got.meta, body } : undefined;
    },

    async create(key) {
      const k = objectKey(key);
      let spool;
      try {
        spool = await openSpoolFile(spoolDir);
      } catch (err) {
        throw storageError(err, 'spool');
      }
      const commit = (path: string, meta: ObjectMeta): Promise<ObjectMeta> => {
        const p = commitSpool(commitCtx, k, path, meta);
        commits.add(p);
        void p.catch(() => undefined).finally(() => commits.delete(p));
        return p;
      };
      return createS3Pending(spool, commit, (err) => storageError(err));
    },

    renew: (key, patch) => renewObject(client, bucket, objectKey(key), patch, signal),

    async delete(key) {
      const k = objectKey(key);
      const existing = await headAt(k);
      if (!existing) return false;
      touched.delete(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }), { abortSignal: signal });
      } catch (err) {
        if (isNotFound(err)) return false;
        throw storageError(err);
      }
      return true;
    },

    async *list(listPrefix): AsyncGenerator<ListedObject> {
      const parts = listPrefix.split('/').filter((p) => p !== '');
      if (parts.length > 0) assertKey(parts.join('/'));
      const wanted = listPrefix.replace(/^\//, '');
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + wanted, ...(token ? { ContinuationToken: token } : {}) }),
            { abortSignal: signal },
          );
        } catch (err) {
          throw storageError(err);
        }
        const keys = (page.Contents ?? []).flatMap((c) => {
          const rel = c.Key?.slice(prefix.length);
          if (rel === undefined || !c.Key?.startsWith(prefix)) return [];
          try {
            assertKey(rel);
          } catch {
            return [];
          }
          return [rel];
        });
        for (let i = 0; i < keys.length; i += LIST_HEAD_CONCURRENCY) {
          const batch = keys.slice(i, i + LIST_HEAD_CONCURRENCY);
          const metas = await Promise.all(batch.map((k) => headAt(prefix + k)));
          for (const [j, k] of batch.entries()) {
            const meta = metas[j]?.meta;
            if (meta) yield { key: k, meta, lastAccess: Math.max(meta.storedAt, touched.get(k) ?? 0) };
          }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    touch(key) {
      assertKey(key);
      touched.delete(key);
      if (touched.size >= MAX_TOUCHED) {
        const oldest = touched.keys().next();
        if (!oldest.done) touched.delete(oldest.value);
      }
      touched.set(key, Date.now());
    },

    async checkWritable() {
      try {
        await probeSpool(spoolDir);
      } catch (err) {
        throw storageError(err, 'spool');
      }
      const probe = `${prefix}.regcache-probe/${process.pid}-${randomBytes(6).toString('hex')}`;
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: probe, Body: Buffer.from('ok'), ContentType: 'text/plain' }), { abortSignal: signal });
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe }), { abortSignal: signal });
      } catch (err) {
        throw storageError(err);
      }
    },

    async close() {
      // Running uploads are cut short (and their multipart uploads aborted) before the client goes.
      lifetime.abort();
      await Promise.allSettled([...commits]);
      if (ownsClient) client.destroy();
    },
  };
  return store;
}
