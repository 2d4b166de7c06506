/**
 * The S3 operations the fake server implements, path-style only: exactly
 * the subset regcache's S3 store and its tests call through the AWS SDK v3.
 * Handlers throw S3Error for S3 error answers; the server renders them.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { copyObject } from './s3-copy.js';
import { completeMultipart, createMultipart, uploadOf, uploadPart } from './s3-multipart.js';
import type { StoredObject } from './s3-objects.js';
import { header, needBucket, receiveBody, S3Error, userMetaOf, wantsAbsent, type S3Call, type S3HandlerContext } from './s3-request.js';
import { listV2Xml } from './s3-xml.js';

export { S3Error, type ConditionalMode, type S3Call, type S3HandlerContext } from './s3-request.js';

/** Names the operation a request asks for; undefined when unsupported. */
export function operationOf(method: string, bucket: string, key: string, q: URLSearchParams, headers: IncomingHttpHeaders = {}): string | undefined {
  if (bucket === '') return undefined;
  if (key === '') {
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'PUT' && [...q.keys()].every((k) => k === 'x-id')) return 'CreateBucket';
    if (method === 'GET' && q.get('list-type') === '2') return 'ListObjectsV2';
    return undefined;
  }
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT') return q.has('uploadId') ? 'UploadPart' : headers['x-amz-copy-source'] !== undefined ? 'CopyObject' : 'PutObject';
  if (method === 'POST') return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : undefined;
  if (method === 'DELETE') return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  return undefined;
}

function objectHeaders(o: StoredObject): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': o.contentType,
    etag: o.etag,
    'last-modified': o.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(o.userMeta)) h[`x-amz-meta-${k}`] = v;
  return h;
}

/** Parses a single `bytes=` range; undefined means "serve the whole object". */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (size === 0 || start >= size || (m[1] === '' && Number(m[2]) === 0)) return 'unsatisfiable';
  return { start, end };
}

/** Opens the current blob of an object, retrying if a concurrent replace unlinked it. */
async function openCurrent(ctx: S3HandlerContext, c: S3Call): Promise<{ obj: StoredObject; fh: FileHandle }> {
  for (let i = 0; ; i++) {
    const obj = ctx.index.get(c.bucket, c.key);
    if (!obj) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    try {
      return { obj, fh: await open(obj.file, 'r') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || i >= 5) throw err;
    }
  }
}

async function getObject(ctx: S3HandlerContext, c: S3Call, head: boolean): Promise<void> {
  needBucket(ctx, c);
  const { obj, fh } = await openCurrent(ctx, c);
  try {
    const range = parseRange(header(c, 'range'), obj.size);
    if (range === 'unsatisfiable') {
      throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { 'content-range': `bytes */${obj.size}` });
    }
    const h = objectHeaders(obj);
    const start = range?.start ?? 0;
    const end = range?.end ?? obj.size - 1;
    h['content-length'] = String(Math.max(0, end - start + 1));
    if (range) h['content-range'] = `bytes ${start}-${end}/${obj.size}`;
    c.res.writeHead(range ? 206 : 200, h);
    if (head || obj.size === 0) {
      c.res.end();
      return;
    }
    await pipeline(fh.createReadStream({ start, end, autoClose: false }), c.res);
  } finally {
    await fh.close();
  }
}

async function putObject(ctx: S3HandlerContext, c: S3Call): Promise<void> {
  needBucket(ctx, c);
  const absent = wantsAbsent(ctx, c);
  const userMeta = userMetaOf(c);
  const blob = await receiveBody(ctx, c);
  const etag = `"${blob.md5}"`;
  const obj = { key: c.key, file: blob.file, size: blob.size, etag, contentType: header(c, 'content-type') ?? 'binary/octet-stream', userMeta, lastModified: new Date() };
  if (!ctx.index.commit(c.bucket, obj, absent)) {
    await ctx.index.dropBlob(blob);
    throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }
  c.res.writeHead(200, { etag }).end();
}

function listObjectsV2(ctx: S3HandlerContext, c: S3Call): void {
  needBucket(ctx, c);
  if (c.query.has('delimiter')) throw new S3Error(501, 'NotImplemented', 'delimiter is not implemented by this fake');
  const prefix = c.query.get('prefix') ?? '';
  const maxKeys = Math.min(1000, Math.max(0, Number(c.query.get('max-keys') ?? '1000') || 0));
  const token = c.query.get('continuation-token') ?? undefined;
  const startAfter = c.query.get('start-after') ?? undefined;
  const after = token !== undefined ? Buffer.from(token, 'base64url').toString('utf8') : startAfter;
  const keys = ctx.index.keys(c.bucket).filter((k) => k.startsWith(prefix) && (after === undefined || Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0));
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const last = page[page.length - 1];
  const entries = page.flatMap((k) => {
    const o = ctx.index.get(c.bucket, k);
    return o ? [{ key: k, size: o.size, etag: o.etag, lastModified: o.lastModified }] : [];
  });
  const nextToken = truncated && last !== undefined ? Buffer.from(last).toString('base64url') : undefined;
  const xml = listV2Xml({ bucket: c.bucket, prefix, maxKeys, entries, truncated, token, nextToken, startAfter, urlEncode: c.query.get('encoding-type') === 'url' });
  c.res.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
}

/** Runs one operation. */
export async function runOperation(ctx: S3HandlerContext, op: string, c: S3Call): Promise<void> {
  switch (op) {
    case 'HeadBucket':
      needBucket(ctx, c);
      c.res.writeHead(200).end();
      return;
    case 'CreateBucket':
      if (!ctx.index.createBucket(c.bucket)) throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded');
      c.res.writeHead(200, { location: `/${c.bucket}` }).end();
      return;
    case 'ListObjectsV2':
      return listObjectsV2(ctx, c);
    case 'GetObject':
    case 'HeadObject':
      return getObject(ctx, c, op === 'HeadObject');
    case 'PutObject':
      return putObject(ctx, c);
    case 'CopyObject':
      return copyObject(ctx, c);
    case 'DeleteObject':
      needBucket(ctx, c);
      ctx.index.delete(c.bucket, c.key);
      c.res.writeHead(204).end();
      return;
    case 'CreateMultipartUpload':
      return createMultipart(ctx, c);
    case 'UploadPart':
      return uploadPart(ctx, c);
    case 'CompleteMultipartUpload':
      return completeMultipart(ctx, c);
    case 'AbortMultipartUpload':
      await ctx.index.dropUpload(uploadOf(ctx, c).id);
      c.res.writeHead(204).end();
      return;
    default:
      throw new S3Error(501, 'NotImplemented', `${op} is not implemented by this fake`);
  }
}
