/**
 * Manifest content negotiation. A client's `Accept` is reduced to the set
 * of media types it names (parameters and order dropped, sorted, without
 * wildcards): that set is sent upstream and its short hash is part of a
 * tag's cache key, so two clients taking different representations of one
 * tag (a Docker v2 manifest list, an OCI index) never get each other's
 * bytes. A request naming none gets the full list registries know.
 */
import { createHash } from 'node:crypto';

/** Every manifest type clients use (cache-proxy's list). */
export const DEFAULT_MANIFEST_TYPES: readonly string[] = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.artifact.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/json',
];

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const MAX_TYPES = 32;

/** A negotiated representation. */
export interface Negotiated {
  /** The Accept header sent upstream. */
  accept: string;
  /** Key segment naming this set ("a-" + 16 hex). */
  id: string;
}

/** Reduces the client's Accept header(s). */
export function negotiate(header: string | string[] | undefined): Negotiated {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const types = new Set<string>();
  for (const part of text.slice(0, 8192).split(',')) {
    const type = (part.split(';', 1)[0] ?? '').trim().toLowerCase();
    if (MEDIA_TYPE.test(type) && types.size < MAX_TYPES) types.add(type);
  }
  const list = types.size > 0 ? [...types].sort() : [...DEFAULT_MANIFEST_TYPES].sort();
  const accept = list.join(', ');
  return { accept, id: `a-${createHash('sha256').update(accept).digest('hex').slice(0, 16)}` };
}

/** A Content-Type from upstream kept byte-exact when it is a plain header value. */
export function keptContentType(value: string | string[] | undefined, fallback: string): string {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && v.length > 0 && v.length <= 256 && /^[\x20-\x7e]+$/.test(v) ? v : fallback;
}
