/**
 * One error class with stable string codes. Codes map to HTTP status in
 * exactly one table (src/http/error-status.ts) and are documented for
 * operators in docs/errors.md. Messages are short and never contain
 * credentials.
 */

/** Every error code regcache can answer with. */
export const ErrorCodes = {
  ERR_NOT_FOUND: 'no such route or object',
  ERR_BAD_REQUEST: 'malformed request (path, version, platform)',
  ERR_METHOD_NOT_ALLOWED: 'method not allowed on this route',
  ERR_UNKNOWN_HOST: 'the named upstream host is not allowed by configuration',
  ERR_UPSTREAM_NOT_FOUND: 'upstream answered 404',
  ERR_UPSTREAM_UNAUTHORIZED: 'upstream answered 401/403',
  ERR_UPSTREAM_STATUS: 'upstream answered an unexpected status',
  ERR_UPSTREAM_TIMEOUT: 'upstream did not answer in time',
  ERR_UPSTREAM_UNREACHABLE: 'upstream connection failed',
  ERR_UPSTREAM_BAD_RESPONSE: 'upstream answered something malformed or too large',
  ERR_UPSTREAM_REFUSED: 'an upstream URL or address is refused by the outbound policy',
  ERR_UPSTREAM_TOO_LARGE: 'upstream body is larger than this route allows',
  ERR_INTEGRITY_MISMATCH: 'artifact bytes do not match the signed checksum',
  ERR_SIGNATURE_INVALID: 'SHA256SUMS signature missing or not valid for the signing keys',
  ERR_STORAGE_UNAVAILABLE: 'the cache store cannot be read or written',
  ERR_RANGE_NOT_SATISFIABLE: 'requested range is outside the object',
  ERR_UNAUTHORIZED: 'missing or wrong credentials',
  ERR_FORBIDDEN: 'denied by policy',
  ERR_SHUTTING_DOWN: 'server is shutting down',
  ERR_INTERNAL: 'unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Base error: a stable code, a short message, an optional cause. */
export class RegcacheError extends Error {
  readonly code: ErrorCode;
  /** Upstream HTTP status when the error came from an upstream answer. */
  readonly upstreamStatus: number | undefined;
  /**
   * The upstream's `WWW-Authenticate` challenge of a 401 answer, for modes
   * that run an authentication flow themselves (an OCI registry's token
   * realm). Never sent to a client.
   */
  readonly challenge: string | undefined;

  constructor(code: ErrorCode, message?: string, opts: { cause?: unknown; upstreamStatus?: number; challenge?: string } = {}) {
    super(message ?? ErrorCodes[code], opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RegcacheError';
    this.code = code;
    this.upstreamStatus = opts.upstreamStatus;
    this.challenge = opts.challenge;
  }
}

/** Narrows unknown throwables into a RegcacheError (unknown → ERR_INTERNAL). */
export function toRegcacheError(err: unknown): RegcacheError {
  if (err instanceof RegcacheError) return err;
  return new RegcacheError('ERR_INTERNAL', undefined, { cause: err });
}

/**
 * Whether a failure is the upstream's fault in a way that justifies serving a
 * stale copy (5xx, 429, timeouts, connection errors, broken answers) rather
 * than an authoritative answer (404, 401/403).
 */
export function isUpstreamFailure(err: unknown): boolean {
  if (!(err instanceof RegcacheError)) return false;
  return (
    err.code === 'ERR_UPSTREAM_STATUS' ||
    err.code === 'ERR_UPSTREAM_TIMEOUT' ||
    err.code === 'ERR_UPSTREAM_UNREACHABLE' ||
    err.code === 'ERR_UPSTREAM_BAD_RESPONSE' ||
    err.code === 'ERR_UPSTREAM_TOO_LARGE'
  );
}
