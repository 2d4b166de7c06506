/**
 * CopyObject for the fake S3 server (PUT with x-amz-copy-source), as regcache
 * uses it: an object copied onto itself with REPLACE metadata to renew its
 * ObjectMeta, conditional on the source's ETag. Like S3, a copy onto itself
 * that changes nothing (COPY directive) is refused, and a failed
 * x-amz-copy-source-if-match answers 412.
 */
import { createReadStream } from 'node:fs';
import { header, needBucket, S3Error, userMetaOf, type S3Call, type S3HandlerContext } from './s3-request.js';
import { xmlEscape } from './s3-xml.js';

/** Splits an x-amz-copy-source value ("bucket/key", URL-encoded, optional leading '/') into bucket and key. */
function parseCopySource(value: string): { bucket: string; key: string } {
  const decoded = decodeURIComponent(value.split('?', 1)[0] ?? '').replace(/^\//, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw new S3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/** Handles one CopyObject call. */
export async function copyObject(ctx: S3HandlerContext, c: S3Call): Promise<void> {
  needBucket(ctx, c);
  const from = parseCopySource(header(c, 'x-amz-copy-source') ?? '');
  const src = ctx.index.get(from.bucket, from.key);
  if (!src) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  const ifMatch = header(c, 'x-amz-copy-source-if-match');
  if (ifMatch !== undefined && ifMatch !== src.etag) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  const replace = (header(c, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
  if (!replace && from.bucket === c.bucket && from.key === c.key) {
    throw new S3Error(400, 'InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
  }
  // The request body is empty; drain it before answering.
  c.req.resume();
  const blob = await ctx.index.writeBlob(createReadStream(src.file), { sha256: false });
  const etag = `"${blob.md5}"`;
  const lastModified = new Date();
  const obj = {
    key: c.key,
    file: blob.file,
    size: blob.size,
    etag,
    contentType: replace ? (header(c, 'content-type') ?? src.contentType) : src.contentType,
    userMeta: replace ? userMetaOf(c) : { ...src.userMeta },
    lastModified,
  };
  ctx.index.commit(c.bucket, obj, false);
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><ETag>${xmlEscape(etag)}</ETag><LastModified>${lastModified.toISOString()}</LastModified></CopyObjectResult>`;
  c.res.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
}
