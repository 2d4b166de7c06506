/**
 * An upstream body passed straight through (the `bypass` crate policy),
 * still checked: the last chunk is held back until the whole body hashed
 * to what the index says, so a wrong `.crate` reaches the client as a cut
 * transfer, never as a complete one.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { RegcacheError } from '../../core/errors.js';

/** Pipes `body` through a sha-256 check (`check` throws to refuse) and a size cap. */
export function checkedBody(body: Readable, maxBytes: number, check: (sha256: string) => void): Readable {
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(new RegcacheError('ERR_UPSTREAM_TOO_LARGE', 'crate larger than max_crate_size'));
        return;
      }
      hash.update(chunk);
      const out = held;
      held = chunk;
      done(null, out);
    },
    flush(done) {
      try {
        check(hash.digest('hex'));
      } catch (err) {
        done(err as Error);
        return;
      }
      done(null, held);
    },
  });
  body.once('error', (err) => t.destroy(err));
  t.once('close', () => body.destroy());
  return body.pipe(t);
}
