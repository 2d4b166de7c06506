/**
 * Renewing an S3 object's metadata (Store.renew): the ObjectMeta lives in
 * the object's own user metadata (meta-codec.ts), and S3 only changes that
 * by writing the object again, so the object is copied onto itself with
 * REPLACE metadata. The copy happens inside S3 (no body transfer) and is
 * conditional on the ETag just read, so a commit that lands in between is
 * never overwritten with the older bytes: the renewal then gives up.
 *
 * S3 copies at most 5 GiB in one CopyObject; a larger object cannot be
 * renewed this way and the renewal fails (the cache then keeps serving the
 * copy as stale and logs it).
 */
import { CopyObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RegcacheError } from '../../core/errors.js';
import { renewedMeta, type ObjectMeta, type RenewPatch } from '../../core/store.js';
import { decodeMeta, encodeMeta } from './meta-codec.js';
import { isNotFound, isPreconditionFailed, storageError } from './s3-errors.js';

/** Largest object one CopyObject may copy. */
const MAX_COPY = 5 * 1024 ** 3;

/** The CopySource value for `objectKey` in `bucket` (URL-encoded per segment, as S3 expects). */
export const copySource = (bucket: string, objectKey: string): string => `${bucket}/${objectKey.split('/').map(encodeURIComponent).join('/')}`;

/** Renews `objectKey`; undefined when it is missing, uncommitted, or replaced meanwhile. */
export async function renewObject(client: S3Client, bucket: string, objectKey: string, patch: RenewPatch, signal: AbortSignal): Promise<ObjectMeta | undefined> {
  let head;
  try {
    head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }), { abortSignal: signal });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw storageError(err);
  }
  const meta = decodeMeta(head.Metadata, head.ContentLength);
  if (!meta || head.ETag === undefined) return undefined;
  if (meta.size > MAX_COPY) throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 's3: objects over 5 GiB cannot be renewed in place');
  const next = renewedMeta(meta, patch);
  try {
    await client.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: objectKey,
        CopySource: copySource(bucket, objectKey),
        CopySourceIfMatch: head.ETag,
        MetadataDirective: 'REPLACE',
        Metadata: encodeMeta(next),
        ContentType: meta.contentType,
      }),
      { abortSignal: signal },
    );
  } catch (err) {
    if (isPreconditionFailed(err) || isNotFound(err)) return undefined;
    throw storageError(err);
  }
  return next;
}
