/**
 * The S3 client regcache makes when the caller passes none: quiet (every
 * failure reaches the caller as a RegcacheError), plain payloads, and no
 * request timeout (a paused download for a slow client must not be cut).
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { S3StoreOptions } from './s3-store.js';

const quiet = (): void => undefined;
/** The SDK's own diagnostics are dropped: every failure reaches the caller as a RegcacheError. */
const QUIET_LOGGER = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

/** Builds the client regcache uses when none is given. */
export function createClient(opts: S3StoreOptions): S3Client {
  return new S3Client({
    region: opts.region,
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle ?? false,
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    // Plain payloads: S3-compatible servers vary in support for the SDK's default checksum trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    logger: QUIET_LOGGER,
    // No request/socket timeout: a paused download (slow client) must not be cut off. Enough sockets that
    // long-running downloads do not starve stat/HEAD calls.
    requestHandler: { connectionTimeout: 10_000, httpAgent: { keepAlive: true, maxSockets: 256 }, httpsAgent: { keepAlive: true, maxSockets: 256 } },
  });
}

