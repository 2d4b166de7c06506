/**
 * Built-in endpoints (health, readiness, metrics, admin, status page) share
 * one small contract with the handler, so operational routes stay out of
 * protocol adapters and each lives in its own file.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheResult } from '../core/route.js';

/** Per-request context given to endpoints. */
export interface EndpointContext {
  req: IncomingMessage;
  res: ServerResponse;
  segments: string[];
  query: URLSearchParams;
  baseUrl: string;
}

/** What an endpoint reports for the request log and metrics. */
export interface EndpointResult {
  bytes: number;
  cache?: CacheResult;
  /** Extra fields for the request log line (never credentials). */
  log?: Record<string, unknown>;
}

/** One built-in route family. */
export interface Endpoint {
  /** Label for logs and metrics ("health", "admin", …). */
  readonly name: string;
  match(method: string, segments: readonly string[]): boolean;
  handle(ctx: EndpointContext): Promise<EndpointResult>;
}

export type { RequestEvent } from '../ops/request-event.js';
