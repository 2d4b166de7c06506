/**
 * Bypass: a request for a mutable artifact whose key another fill or
 * revalidation is busy with (`freshness.busy: 'bypass'`) fetches upstream
 * itself and streams the body straight to its client, storing nothing.
 *
 * Invariant: even then no client receives a complete unverified body: the
 * bytes are digested as they pass, the last `holdBack` bytes are withheld
 * until `verify` accepted the whole, and on any failure the stream is
 * destroyed with the error instead of ending.
 */
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { ArtifactReply, ArtifactRequest } from './cache.js';
import { Digests } from './digests.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import { checkSize, HOLDBACK } from './fill-run.js';
import type { ArtifactRoute, ArtifactSource } from './route.js';

/** Passes bytes through, withholding the last `holdBack` of them until the whole body is verified. */
function verifying(route: ArtifactRoute, source: ArtifactSource, holdBack: number): Transform {
  const digests = new Digests(route.digests);
  const held: Buffer[] = [];
  let heldBytes = 0;
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
      received += chunk.length;
      if (source.size !== undefined && received > source.size) {
        cb(new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream sent more bytes than announced'));
        return;
      }
      try {
        checkSize(route, received, false);
      } catch (err) {
        cb(toRegcacheError(err));
        return;
      }
      digests.update(chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      // Everything but the last `holdBack` bytes may go.
      while (heldBytes > holdBack) {
        const first = held[0];
        if (!first) break;
        const excess = heldBytes - holdBack;
        if (first.length <= excess) {
          held.shift();
          heldBytes -= first.length;
          this.push(first);
        } else {
          held[0] = first.subarray(excess);
          heldBytes -= excess;
          this.push(first.subarray(0, excess));
        }
      }
      cb();
    },
    flush(cb: TransformCallback): void {
      if (source.size !== undefined && received !== source.size) {
        cb(new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream body shorter than announced'));
        return;
      }
      const computed = digests.finish();
      Promise.resolve()
        .then(() => route.verify({ sha256: computed.sha256, size: received, digests: computed }))
        .then(
          () => {
            for (const b of held) this.push(b);
            cb();
          },
          (err: unknown) => cb(toRegcacheError(err)),
        );
    },
  });
}

/** Serves `route` straight from upstream (result 'bypass'); nothing is stored. Ranges are not applied (a 200 with the whole body). */
export async function bypass(route: ArtifactRoute, req: ArtifactRequest, signal: AbortSignal): Promise<ArtifactReply> {
  const source = await route.fetch(signal);
  try {
    if (source.size !== undefined) checkSize(route, source.size, true);
  } catch (err) {
    source.body.destroy();
    throw err;
  }
  const base = { result: 'bypass' as const, size: source.size, sha256: undefined, storedAt: undefined, contentType: route.contentType, range: undefined };
  if (req.head) {
    source.body.destroy();
    return { ...base, body: undefined };
  }
  // A client that goes away ends the upstream request too.
  const body = pipeline(source.body, verifying(route, source, route.holdBack ?? HOLDBACK), () => undefined);
  return { ...base, body };
}
