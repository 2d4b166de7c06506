/**
 * Reading ObjectMeta back from what a backend persisted (fs trailer JSON, s3
 * user metadata), in one place so both backends accept exactly the same
 * records. Required fields of the wrong type make the object count as
 * missing; optional fields are checked when present. An unknown class (a
 * newer regcache's) reads as no class rather than hiding the object.
 */
import type { ObjectClass, ObjectMeta } from '../core/store.js';

const CLASSES: ReadonlySet<string> = new Set<ObjectClass>(['artifact', 'metadata', 'marker']);

/** The ObjectMeta in a parsed record, or undefined when it is not a valid one. */
export function metaFromRecord(m: Record<string, unknown>): ObjectMeta | undefined {
  if (typeof m.size !== 'number' || typeof m.sha256 !== 'string' || typeof m.contentType !== 'string' || typeof m.storedAt !== 'number') return undefined;
  const meta: ObjectMeta = { size: m.size, sha256: m.sha256, contentType: m.contentType, storedAt: m.storedAt };
  if (typeof m.class === 'string' && CLASSES.has(m.class)) meta.class = m.class as ObjectClass;
  if (m.attrs !== undefined) {
    if (typeof m.attrs !== 'object' || m.attrs === null) return undefined;
    const attrs: Record<string, string> = {};
    for (const [k, val] of Object.entries(m.attrs)) {
      if (typeof val !== 'string') return undefined;
      attrs[k] = val;
    }
    meta.attrs = attrs;
  }
  for (const name of ['etag', 'lastModified'] as const) {
    const v = m[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') return undefined;
    meta[name] = v;
  }
  if (m.expiresAt !== undefined) {
    if (typeof m.expiresAt !== 'number') return undefined;
    meta.expiresAt = m.expiresAt;
  }
  return meta;
}
