/**
 * Checks of bytes against the digest that names them: `verify` of a fill
 * (the core computed the digests while streaming) and a streamed check for
 * bytes passed straight through (the `bypass` policy), which holds the last
 * chunk back until the digest matched, so a tampered blob reaches a client
 * as a cut transfer, never as a complete one.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { RegcacheError } from '../../core/errors.js';
import type { FillSummary } from '../../core/route.js';
import type { Digest } from './names.js';

/** Throws ERR_INTEGRITY_MISMATCH unless the fill's digest of `d.algorithm` is `d.hex`. */
export function checkDigest(d: Digest, summary: FillSummary): void {
  const got = d.algorithm === 'sha256' ? summary.sha256 : summary.digests[d.algorithm];
  if (got !== d.hex) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `bytes do not match their digest ${d.algorithm}:${d.hex.slice(0, 12)}…`);
}

/** Pipes `body` through a digest check; the result errors instead of ending when the bytes are not `d`. */
export function checkedByDigest(body: Readable, d: Digest): Readable {
  const hash = createHash(d.algorithm);
  let held: Buffer | undefined;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      const out = held;
      held = chunk;
      done(null, out);
    },
    flush(done) {
      if (hash.digest('hex') !== d.hex) {
        done(new RegcacheError('ERR_INTEGRITY_MISMATCH', 'bytes do not match their digest'));
        return;
      }
      done(null, held);
    },
  });
  body.once('error', (err) => check.destroy(err));
  check.once('close', () => body.destroy());
  return body.pipe(check);
}
