/**
 * The fake server's multipart operations: Create, UploadPart, Complete
 * (with If-None-Match, atomically like PutObject) and Abort.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Blob, Upload } from './s3-objects.js';
import { needBucket, receiveBody, S3Error, userMetaOf, wantsAbsent, header, type S3Call, type S3HandlerContext } from './s3-request.js';
import { completeXml, initiateXml, parseCompleteParts } from './s3-xml.js';

/** CreateMultipartUpload. */
export function createMultipart(ctx: S3HandlerContext, c: S3Call): void {
  needBucket(ctx, c);
  const upload = ctx.index.createUpload(c.bucket, c.key, header(c, 'content-type') ?? 'binary/octet-stream', userMetaOf(c));
  c.res.writeHead(200, { 'content-type': 'application/xml' }).end(initiateXml(c.bucket, c.key, upload.id));
}

/** The upload a call names, or NoSuchUpload. */
export function uploadOf(ctx: S3HandlerContext, c: S3Call): Upload {
  needBucket(ctx, c);
  const upload = ctx.index.getUpload(c.query.get('uploadId') ?? '');
  if (!upload || upload.bucket !== c.bucket || upload.key !== c.key) {
    throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist');
  }
  return upload;
}

/** UploadPart. */
export async function uploadPart(ctx: S3HandlerContext, c: S3Call): Promise<void> {
  const upload = uploadOf(ctx, c);
  const n = Number(c.query.get('partNumber'));
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000');
  const blob = await receiveBody(ctx, c);
  if (ctx.index.getUpload(upload.id) !== upload) {
    await ctx.index.dropBlob(blob);
    throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist');
  }
  const old = upload.parts.get(n);
  upload.parts.set(n, blob);
  if (old) await ctx.index.dropBlob(old);
  c.res.writeHead(200, { etag: `"${blob.md5}"` }).end();
}

async function readText(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** CompleteMultipartUpload. */
export async function completeMultipart(ctx: S3HandlerContext, c: S3Call): Promise<void> {
  const upload = uploadOf(ctx, c);
  const absent = wantsAbsent(ctx, c);
  const listed = parseCompleteParts(await readText(c.req, 1024 * 1024));
  if (!listed || listed.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed');
  const blobs: Blob[] = [];
  for (const [i, p] of listed.entries()) {
    if (i > 0 && p.partNumber <= (listed[i - 1]?.partNumber ?? 0)) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order');
    const blob = upload.parts.get(p.partNumber);
    if (!blob || p.etag.replace(/"/g, '') !== blob.md5) throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found');
    if (i < listed.length - 1 && blob.size < ctx.minPartSize) throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size');
    blobs.push(blob);
  }
  const whole = await ctx.index.concat(blobs);
  const md5s = Buffer.concat(blobs.map((b) => Buffer.from(b.md5, 'hex')));
  const etag = `"${createHash('md5').update(md5s).digest('hex')}-${blobs.length}"`;
  if (ctx.index.getUpload(upload.id) !== upload) {
    await ctx.index.dropBlob(whole);
    throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist');
  }
  const obj = { key: c.key, file: whole.file, size: whole.size, etag, contentType: upload.contentType, userMeta: upload.userMeta, lastModified: new Date() };
  if (!ctx.index.commit(c.bucket, obj, absent)) {
    // Like S3, a failed precondition leaves the upload open: the client may retry or abort it.
    await ctx.index.dropBlob(whole);
    throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }
  await ctx.index.dropUpload(upload.id);
  const location = `http://${c.req.headers.host ?? '127.0.0.1'}/${c.bucket}/${c.key}`;
  c.res.writeHead(200, { 'content-type': 'application/xml' }).end(completeXml(location, c.bucket, c.key, etag));
}
