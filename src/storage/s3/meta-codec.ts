/**
 * ObjectMeta travels in the data object's own S3 user metadata, so one
 * PutObject / CompleteMultipartUpload makes bytes and metadata visible
 * together. The header is the commit sentinel: an object without it (or
 * whose recorded size disagrees with the object's) counts as missing.
 *
 * The JSON is base64url-encoded because S3 user metadata travels as HTTP
 * headers and non-ASCII attrs would be mangled; S3 allows 2 KB in total.
 */
import { RegcacheError } from '../../core/errors.js';
import type { ObjectMeta } from '../../core/store.js';
import { metaFromRecord } from '../meta-fields.js';

/** User-metadata name (sent as x-amz-meta-regcache-meta). */
export const META_NAME = 'regcache-meta';
const VERSION = 1;
/** S3's limit on all user-metadata names + values. */
const MAX_USER_META = 2048;

/** Encodes meta as user metadata; throws when it would not fit. */
export function encodeMeta(meta: ObjectMeta): Record<string, string> {
  const value = Buffer.from(JSON.stringify({ v: VERSION, ...meta })).toString('base64url');
  if (META_NAME.length + value.length > MAX_USER_META) {
    throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 's3: object metadata exceeds the 2 KB S3 allows');
  }
  return { [META_NAME]: value };
}

/** Decodes and checks user metadata against the object's actual size; undefined = not committed. */
export function decodeMeta(userMeta: Record<string, string> | undefined, actualSize: number | undefined): ObjectMeta | undefined {
  const raw = userMeta?.[META_NAME];
  if (raw === undefined || actualSize === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  if (m.v !== VERSION) return undefined;
  const meta = metaFromRecord(m);
  return meta && meta.size === actualSize ? meta : undefined;
}
