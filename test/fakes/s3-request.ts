/**
 * What every fake S3 handler shares: the request shape, S3 error answers,
 * and the checks S3 applies to writes (bucket, user metadata, conditions,
 * declared lengths and digests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAwsChunkedDecoder, isAwsChunked } from './s3-chunked.js';
import type { Blob, ObjectIndex } from './s3-objects.js';

/** How the server treats `If-None-Match` on writes. */
export type ConditionalMode = 'supported' | 'ignored' | 'not-implemented';

/** An S3 error answer. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** One parsed request. */
export interface S3Call {
  req: IncomingMessage;
  res: ServerResponse;
  bucket: string;
  key: string;
  query: URLSearchParams;
}

/** What handlers share. */
export interface S3HandlerContext {
  index: ObjectIndex;
  conditional(): ConditionalMode;
  minPartSize: number;
}

const MAX_USER_META = 2048;

/** One request header (first value). */
export const header = (c: S3Call, name: string): string | undefined => {
  const v = c.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Throws NoSuchBucket unless the call's bucket exists. */
export function needBucket(ctx: S3HandlerContext, c: S3Call): void {
  if (!ctx.index.hasBucket(c.bucket)) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
}

/** The x-amz-meta-* headers, checked against S3's 2 KB limit. */
export function userMetaOf(c: S3Call): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(c.req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const v = Array.isArray(value) ? value.join(',') : value;
    meta[name.slice('x-amz-meta-'.length)] = v;
    bytes += name.length - 'x-amz-meta-'.length + v.length;
  }
  if (bytes > MAX_USER_META) throw new S3Error(400, 'MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size');
  return meta;
}

/** Whether the write is conditional on absence; throws for conditions this server refuses. */
export function wantsAbsent(ctx: S3HandlerContext, c: S3Call): boolean {
  const inm = header(c, 'if-none-match');
  if (header(c, 'if-match') !== undefined) throw new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
  if (inm === undefined) return false;
  const mode = ctx.conditional();
  if (mode === 'ignored') return false;
  if (mode === 'not-implemented' || inm.trim() !== '*') {
    throw new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
  }
  return true;
}

/** Receives a request body into a blob, checking the lengths and digests the client declared. */
export async function receiveBody(ctx: S3HandlerContext, c: S3Call): Promise<Blob> {
  const chunked = isAwsChunked(c.req.headers);
  const sha = header(c, 'x-amz-content-sha256');
  const signedPayload = sha !== undefined && /^[0-9a-f]{64}$/.test(sha);
  const blob = await ctx.index.writeBlob(c.req, { sha256: signedPayload, ...(chunked ? { decode: createAwsChunkedDecoder() } : {}) });
  const declared = header(c, chunked ? 'x-amz-decoded-content-length' : 'content-length');
  const md5 = header(c, 'content-md5');
  let problem: S3Error | undefined;
  if (declared !== undefined && Number(declared) !== blob.size) problem = new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified');
  else if (signedPayload && sha !== blob.sha256) {
    problem = new S3Error(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed');
  } else if (md5 !== undefined && Buffer.from(md5, 'base64').toString('hex') !== blob.md5) {
    problem = new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received');
  }
  if (problem) {
    await ctx.index.dropBlob(blob);
    throw problem;
  }
  return blob;
}
