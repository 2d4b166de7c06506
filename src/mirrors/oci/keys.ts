/**
 * Store keys of an `oci` instance, all under `oci/<instance>/<ns>/`
 * (`ns` is "_" for the main upstream, else the `?ns=` registry):
 *
 *   blobs/<alg>/<hex>                          a blob, shared by every repository
 *   manifests/<alg>/<hex>                      a manifest by digest, shared too
 *   repos/<repo components…>/_tags/<tag>/<a-…> a tag's manifest in one negotiated representation
 *   repos/<repo components…>/_list/<q-…>       a tags/list page
 *   repos/<repo components…>/_referrers/<alg>/<hex>/<q-…>
 *
 * Content addressed by digest is the same bytes in every repository, so
 * it is stored once per registry: what the configured credential read
 * from one repository is served to every client of the instance (the
 * instance's access rule). Repository components never start with "_",
 * so the markers cannot collide with a name. Keys hold at most 16
 * segments: repository names are limited to MAX_REPO_COMPONENTS.
 */
import { createHash } from 'node:crypto';
import { decodeKeySegment, encodeKeySegment } from '../../core/keys.js';
import { assertKey } from '../../core/store.js';
import type { Digest } from './names.js';

/** The deepest repository name a key can hold (16 segments, 8 used by the longest layout). */
export const MAX_REPO_COMPONENTS = 8;

/** The key prefix of an instance. */
export function instancePrefix(instance: string): string {
  return `oci/${encodeKeySegment(instance)}/`;
}

/** The prefix of one registry of the instance. */
export function registryPrefix(instance: string, ns: string): string {
  return `${instancePrefix(instance)}${encodeKeySegment(ns)}/`;
}

const checked = (key: string): string => {
  assertKey(key);
  return key;
};

/** A blob's key. */
export function blobKey(instance: string, ns: string, d: Digest): string {
  return checked(`${registryPrefix(instance, ns)}blobs/${d.algorithm}/${d.hex}`);
}

/** A manifest's key by digest. */
export function manifestKey(instance: string, ns: string, d: Digest): string {
  return checked(`${registryPrefix(instance, ns)}manifests/${d.algorithm}/${d.hex}`);
}

/** The prefix of everything kept for one repository (its tags, lists, referrers). */
export function repoPrefix(instance: string, ns: string, repo: string): string {
  return `${registryPrefix(instance, ns)}repos/${repo.split('/').map(encodeKeySegment).join('/')}/`;
}

/** A tag's key in one negotiated representation. */
export function tagKey(instance: string, ns: string, repo: string, tag: string, acceptId: string): string {
  return checked(`${repoPrefix(instance, ns, repo)}_tags/${encodeKeySegment(tag)}/${acceptId}`);
}

/** Short id of a canonical query ("q-" + 16 hex). */
export function queryId(query: string): string {
  return `q-${createHash('sha256').update(query).digest('hex').slice(0, 16)}`;
}

/** A tags/list page's key. */
export function tagListKey(instance: string, ns: string, repo: string, query: string): string {
  return checked(`${repoPrefix(instance, ns, repo)}_list/${queryId(query)}`);
}

/** A referrers answer's key. */
export function referrersKey(instance: string, ns: string, repo: string, d: Digest, query: string): string {
  return checked(`${repoPrefix(instance, ns, repo)}_referrers/${d.algorithm}/${d.hex}/${queryId(query)}`);
}

/** What a key of this instance names, for listings. */
export type KeyInfo =
  | { kind: 'blob' | 'manifest'; ns: string; digest: string }
  | { kind: 'tag'; ns: string; repo: string; tag: string };

/** Reads a key back (undefined for lists, referrers and foreign keys). */
export function keyInfo(instance: string, key: string): KeyInfo | undefined {
  const head = instancePrefix(instance);
  if (!key.startsWith(head)) return undefined;
  try {
    const segs = key.slice(head.length).split('/');
    const ns = decodeKeySegment(segs[0] ?? '');
    const kind = segs[1];
    if ((kind === 'blobs' || kind === 'manifests') && segs.length === 4) return { kind: kind === 'blobs' ? 'blob' : 'manifest', ns, digest: `${segs[2]}:${segs[3]}` };
    const t = segs.indexOf('_tags');
    if (kind === 'repos' && t > 2 && segs.length === t + 3) {
      return { kind: 'tag', ns, repo: segs.slice(2, t).map(decodeKeySegment).join('/'), tag: decodeKeySegment(segs[t + 1] ?? '') };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
