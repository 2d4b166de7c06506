/**
 * A file streamed through without being stored (`bypass` policies, files of
 * a project only a client credential can read), checked on the way: the
 * sha256 is computed as bytes pass, the last 64 KiB are withheld until the
 * whole body matched, and a mismatch (or a wrong length) destroys the
 * stream instead of ending it, so no client sees a complete wrong file.
 */
import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { RegcacheError } from '../../core/errors.js';

const HOLD = 64 * 1024;

/** `body` checked against `sha256` (lowercase hex; undefined: length only) and `size` (when announced). */
export function checkedStream(body: Readable, sha256: string | undefined, size: number | undefined, maxBytes: number): Readable {
  const hash = createHash('sha256');
  const held: Buffer[] = [];
  let heldBytes = 0;
  let received = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
      received += chunk.length;
      if (received > maxBytes || (size !== undefined && received > size)) {
        cb(new RegcacheError('ERR_UPSTREAM_TOO_LARGE', 'upstream sent more bytes than allowed or announced'));
        return;
      }
      hash.update(chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      while (held.length > 1 && heldBytes - (held[0]?.length ?? 0) >= HOLD) {
        const out = held.shift() as Buffer;
        heldBytes -= out.length;
        this.push(out);
      }
      cb();
    },
    flush(cb: TransformCallback): void {
      if (size !== undefined && received !== size) {
        cb(new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream body shorter than announced'));
        return;
      }
      if (sha256 !== undefined && hash.digest('hex') !== sha256) {
        cb(new RegcacheError('ERR_INTEGRITY_MISMATCH', 'file does not match the sha256 its index gives'));
        return;
      }
      for (const b of held) this.push(b);
      cb();
    },
  });
  return pipeline(body, check, () => undefined);
}
