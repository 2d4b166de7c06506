/**
 * The one table from error code to HTTP status. Documented in docs/errors.md.
 */
import type { ErrorCode, RegcacheError } from '../core/errors.js';

const STATUS: Record<ErrorCode, number> = {
  ERR_NOT_FOUND: 404,
  ERR_BAD_REQUEST: 400,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_UNKNOWN_HOST: 404,
  ERR_UPSTREAM_NOT_FOUND: 404,
  ERR_UPSTREAM_UNAUTHORIZED: 403,
  ERR_UPSTREAM_STATUS: 502,
  ERR_UPSTREAM_TIMEOUT: 504,
  ERR_UPSTREAM_UNREACHABLE: 502,
  ERR_UPSTREAM_BAD_RESPONSE: 502,
  ERR_UPSTREAM_REFUSED: 502,
  ERR_UPSTREAM_TOO_LARGE: 502,
  ERR_INTEGRITY_MISMATCH: 502,
  ERR_SIGNATURE_INVALID: 502,
  ERR_STORAGE_UNAVAILABLE: 503,
  ERR_RANGE_NOT_SATISFIABLE: 416,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_SHUTTING_DOWN: 503,
  ERR_INTERNAL: 500,
};

/** HTTP status for an error; upstream 401 stays 401 so clients know credentials are at stake. */
export function statusFor(err: RegcacheError): number {
  if (err.code === 'ERR_UPSTREAM_UNAUTHORIZED' && err.upstreamStatus === 401) return 401;
  return STATUS[err.code];
}
