/**
 * The one record of a finished request that log, metrics and stats
 * subscribe to. It lives below the HTTP server so the subscribers need not
 * import server code.
 */
import type { CacheResult } from '../core/route.js';

/** A finished request, as log and metrics subscribers see it. */
export interface RequestEvent {
  method: string;
  path: string;
  /** Mirror or endpoint name; "none" when nothing matched. */
  route: string;
  /** The mode instance that answered (configured names only, so the label set is bounded). */
  instance?: string;
  /** 'artifact' | 'metadata' for mirrors, else the endpoint name. */
  kind: string;
  status: number;
  cache: CacheResult;
  bytes: number;
  ms: number;
  code?: string;
  extra?: Record<string, unknown>;
}
