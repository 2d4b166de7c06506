/**
 * Bearer-token checks for the admin API and metrics: constant-time, and a
 * failure says nothing about why.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RegcacheError } from '../core/errors.js';

/** Returns a checker that throws a bare ERR_UNAUTHORIZED unless the request carries `Bearer <token>`. */
export function bearerCheck(token: string): (req: IncomingMessage) => void {
  const want = createHash('sha256').update(`Bearer ${token}`).digest();
  return (req) => {
    const got = createHash('sha256').update(req.headers.authorization ?? '').digest();
    if (!timingSafeEqual(got, want)) throw new RegcacheError('ERR_UNAUTHORIZED', 'unauthorized');
  };
}
