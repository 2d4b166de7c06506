/**
 * Presigned GET URLs, for the later `redirect: true` option: clients fetch
 * artifact bytes straight from the bucket. Signing is local (no request);
 * the caller checks the object is committed (stat) before redirecting,
 * since a URL can be signed for any key.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Store } from './s3-store.js';
import { storageError } from './s3-errors.js';

/** A GET URL for `key` valid for `expiresSeconds` (S3 allows at most 7 days). */
export async function presignGet(store: S3Store, key: string, expiresSeconds: number): Promise<string> {
  const command = new GetObjectCommand({ Bucket: store.bucket, Key: store.objectKey(key) });
  try {
    return await getSignedUrl(store.client, command, { expiresIn: Math.max(1, Math.min(Math.floor(expiresSeconds), 7 * 24 * 3600)) });
  } catch (err) {
    throw storageError(err, 'presign');
  }
}
