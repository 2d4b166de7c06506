/**
 * The request log: one JSON line per finished request (method, path without
 * query, status, cache result, bytes, duration, error code), a subscriber
 * of the handler's request events. Query strings (URL signatures) and
 * headers (credentials) never reach it.
 */
import type { Logger } from 'pino';
import type { RequestEvent } from '../http/endpoint.js';

/** Creates the request-log subscriber. */
export function createRequestLog(log: Logger): (e: RequestEvent) => void {
  return (e) => {
    log.info(
      {
        method: e.method,
        path: e.path,
        status: e.status,
        cache: e.cache,
        bytes: e.bytes,
        ms: e.ms,
        ...(e.code ? { code: e.code } : {}),
        ...(e.extra ?? {}),
      },
      'request',
    );
  };
}
