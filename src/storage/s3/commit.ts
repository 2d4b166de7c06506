/**
 * Commit policy for one S3 object, i.e. what "concurrent commits of one key
 * end with one whole object" means when several replicas share a bucket.
 *
 * Every commit is one PutObject / CompleteMultipartUpload carrying the
 * metadata, so any outcome is one whole, self-consistent object. On top:
 * - Writes are conditional (If-None-Match: *) so replicas racing to fill the
 *   same artifact do not overwrite each other's identical copy.
 * - On 412 we look at the object that won. If it is the same commit (same
 *   sha256, size, type and attrs, stored within SAME_COMMIT_WINDOW_MS of
 *   ours) we adopt it and return its meta. Otherwise we overwrite it
 *   unconditionally: the Store contract is last-writer-wins, a key is
 *   legitimately rewritten (metadata refreshes, newer upstream bytes), and an
 *   existing copy with identical bytes but an old storedAt must be replaced
 *   or its freshness would never advance (every request would refresh).
 * - A server that answers 501 NotImplemented to If-None-Match gets plain
 *   writes from then on (last-writer-wins); one that ignores the header
 *   behaves the same without us noticing, which is equally safe.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectMeta } from '../../core/store.js';
import { encodeMeta } from './meta-codec.js';
import { isConditionalConflict, isNotImplemented, isPreconditionFailed } from './s3-errors.js';
import { createSpoolUpload } from './upload.js';

/** How far apart two commits of identical bytes may be and still count as one race. */
export const SAME_COMMIT_WINDOW_MS = 30_000;
const MAX_TRIES = 4;

/** What the commit needs from its store. */
export interface CommitContext {
  client: S3Client;
  bucket: string;
  partSize: number;
  signal: AbortSignal;
  /** Store-wide switch, turned off when the server does not implement conditional writes. */
  conditional: { enabled: boolean };
  /** The committed meta at an object key, undefined when missing or uncommitted. */
  head(objectKey: string): Promise<ObjectMeta | undefined>;
}

function sameCommit(a: ObjectMeta, b: ObjectMeta): boolean {
  const attrsA = Object.entries(a.attrs ?? {}).sort(([x], [y]) => x.localeCompare(y));
  const attrsB = Object.entries(b.attrs ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return (
    a.sha256 === b.sha256 &&
    a.size === b.size &&
    a.contentType === b.contentType &&
    JSON.stringify(attrsA) === JSON.stringify(attrsB) &&
    Math.abs(a.storedAt - b.storedAt) <= SAME_COMMIT_WINDOW_MS
  );
}

/** Uploads the spool file at `path` as `objectKey` with `meta`; returns the meta now stored. */
export async function commitSpool(ctx: CommitContext, objectKey: string, path: string, meta: ObjectMeta): Promise<ObjectMeta> {
  const upload = createSpoolUpload({
    client: ctx.client,
    bucket: ctx.bucket,
    key: objectKey,
    path,
    size: meta.size,
    contentType: meta.contentType,
    metadata: encodeMeta(meta),
    partSize: ctx.partSize,
    signal: ctx.signal,
  });
  try {
    let conditional = ctx.conditional.enabled;
    for (let tries = 1; ; tries++) {
      try {
        await upload.finish(conditional);
        return meta;
      } catch (err) {
        if (!conditional || tries >= MAX_TRIES) throw err;
        if (isNotImplemented(err)) {
          ctx.conditional.enabled = false;
          conditional = false;
        } else if (isPreconditionFailed(err)) {
          const existing = await ctx.head(objectKey);
          if (existing && sameCommit(existing, meta)) return existing;
          conditional = false;
        } else if (!isConditionalConflict(err)) {
          throw err;
        }
      }
    }
  } finally {
    await upload.cleanup();
  }
}
