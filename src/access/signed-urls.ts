/**
 * Signed URLs for private artifacts: clients download zips and archives
 * without credentials (Terraform sends none), so the answers that name them
 * carry an expiring HMAC bound to the exact canonical path.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { RegcacheError } from '../core/errors.js';

/** Signs and checks artifact URLs. */
export interface UrlSigner {
  /** The `exp=…&sig=…` query authorizing `path` (canonical, absolute) for the configured lifetime. */
  signQuery(path: string): string;
  /**
   * Whether `query` carries a valid signature for `path`: 'valid', 'expired'
   * (a genuine signature past its time: only a client that was given the URL
   * can present one), or 'invalid' (missing, malformed, forged, borrowed).
   */
  check(path: string, query: URLSearchParams): 'valid' | 'expired' | 'invalid';
}

/** Creates the signer over the instance's signing key. */
export function createUrlSigner(key: Buffer, ttlMs: number, now: () => number = Date.now): UrlSigner {
  const mac = (path: string, exp: string): Buffer => createHmac('sha256', key).update(`${path}\n${exp}`).digest();
  return {
    signQuery(path) {
      const exp = String(Math.floor((now() + ttlMs) / 1000));
      return `exp=${exp}&sig=${mac(path, exp).toString('base64url')}`;
    },
    check(path, query) {
      const exp = query.get('exp') ?? '';
      const sig = query.get('sig') ?? '';
      if (!/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return 'invalid';
      const expected = mac(path, exp);
      const given = Buffer.from(sig, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      return Number(exp) * 1000 < now() ? 'expired' : 'valid';
    },
  };
}

/** The error for a genuine but expired signature (says nothing the client did not know). */
export function expiredSignature(): RegcacheError {
  return new RegcacheError('ERR_UNAUTHORIZED', 'signed URL expired');
}
