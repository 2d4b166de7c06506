/**
 * Classifies AWS SDK failures. Duck-typed (name, $metadata.httpStatusCode,
 * Node's `code`) so a client from another SDK minor version, passed in by
 * the caller, is understood too. Everything that is not a plain "no such
 * object" becomes ERR_STORAGE_UNAVAILABLE with a short message that never
 * carries credentials or signed URLs.
 */
import { RegcacheError } from '../../core/errors.js';

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const shape = (err: unknown): SdkErrorShape => (typeof err === 'object' && err !== null ? err : {});

/** The S3 error code ("NoSuchKey", "SlowDown", …) or Node error code, when there is one. */
export function errorCode(err: unknown): string | undefined {
  const e = shape(err);
  for (const v of [e.Code, e.code, e.name]) if (typeof v === 'string' && v !== '' && v !== 'Error') return v;
  return undefined;
}

/** The HTTP status S3 answered with, when it answered. */
export function httpStatus(err: unknown): number | undefined {
  const s = shape(err).$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Whether the object (not the bucket) is missing. HEAD answers carry no body,
 * so a HEAD on a deleted bucket also looks like this; init() checks the
 * bucket, and writes report NoSuchBucket properly.
 */
export function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'NoSuchKey' || (httpStatus(err) === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchUpload');
}

/** The server refused a conditional write because the key exists. */
export function isPreconditionFailed(err: unknown): boolean {
  return httpStatus(err) === 412 || errorCode(err) === 'PreconditionFailed';
}

/** A concurrent conditional write raced ours (AWS: 409 ConditionalRequestConflict); retry. */
export function isConditionalConflict(err: unknown): boolean {
  return errorCode(err) === 'ConditionalRequestConflict';
}

/** The server does not implement a header we sent (older S3-compatibles and If-None-Match). */
export function isNotImplemented(err: unknown): boolean {
  return httpStatus(err) === 501 || errorCode(err) === 'NotImplemented';
}

/** The multipart upload is gone (completed, aborted or expired). */
export function isNoSuchUpload(err: unknown): boolean {
  return errorCode(err) === 'NoSuchUpload';
}

/** Whether the range asked for lies outside the object (or the object is empty). */
export function isInvalidRange(err: unknown): boolean {
  return httpStatus(err) === 416 || errorCode(err) === 'InvalidRange';
}

/** Failures worth another attempt: throttling, 5xx, dropped connections. Never an abort. */
export function isRetryable(err: unknown): boolean {
  const code = errorCode(err);
  if (code === 'AbortError') return false;
  const status = httpStatus(err);
  if (status !== undefined) return (status >= 500 && status !== 501) || status === 429 || code === 'SlowDown' || code === 'RequestTimeout';
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'TimeoutError';
}

/** Wraps any failure as ERR_STORAGE_UNAVAILABLE ("s3 AccessDenied (403)"); RegcacheErrors pass through. */
export function storageError(err: unknown, what?: string): RegcacheError {
  if (err instanceof RegcacheError) return err;
  const code = errorCode(err) ?? 'error';
  const status = httpStatus(err);
  const detail = status === undefined ? code : `${code} (${status})`;
  return new RegcacheError('ERR_STORAGE_UNAVAILABLE', `s3${what ? ` ${what}` : ''}: ${detail}`, { cause: err });
}
