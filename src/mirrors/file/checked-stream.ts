/**
 * An upstream body passed straight through to a client (nothing stored),
 * still checked against what the upstream announced: the last chunk is
 * held back until the body ended with the announced length and digests,
 * so a truncated or corrupted file reaches the client as a cut transfer
 * (its Content-Length unmet), never as a complete one.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { RegcacheError } from '../../core/errors.js';
import { algorithmsFor, checkAnnounced, type Announced } from './integrity.js';

/** Pipes `body` through the check; the result errors instead of ending when a claim fails. */
export function checkedStream(body: Readable, announced: Announced): Readable {
  const hashes = new Map<string, Hash>([['sha256', createHash('sha256')], ...algorithmsFor(announced).filter((a) => a !== 'sha256').map((a): [string, Hash] => [a, createHash(a)])]);
  let held: Buffer | undefined;
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (announced.size !== undefined && size > announced.size) {
        done(new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream sent more bytes than announced'));
        return;
      }
      for (const h of hashes.values()) h.update(chunk);
      const out = held;
      held = chunk;
      done(null, out);
    },
    flush(done) {
      const digests = Object.fromEntries([...hashes].map(([alg, h]) => [alg, h.digest('hex')]));
      try {
        checkAnnounced(announced, { size, sha256: digests['sha256'] ?? '', digests });
      } catch (err) {
        done(err as Error);
        return;
      }
      done(null, held);
    },
  });
  body.once('error', (err) => check.destroy(err));
  check.once('close', () => body.destroy());
  return body.pipe(check);
}
