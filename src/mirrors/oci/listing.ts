/**
 * What an `oci` instance's stored objects are (`regcache ls`: one item
 * per cached tag, manifest and blob) and what an admin purge covers:
 * nothing → the whole instance; `blobs` / `manifests` → every blob or
 * manifest by digest of the main registry; a repository name → its tags,
 * lists and referrers (its blobs stay: they are shared by digest).
 */
import { RegcacheError } from '../../core/errors.js';
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';
import { instancePrefix, keyInfo, MAX_REPO_COMPONENTS, registryPrefix, repoPrefix } from './keys.js';
import { checkRepository } from './names.js';
import { MAIN_NS } from './upstreams.js';

/** Lists the instance's cached tags, manifests and blobs. */
export function describeOci(instance: string, objects: readonly ListedObject[]): ListedItem[] {
  const items: ListedItem[] = [];
  for (const o of objects) {
    const info = keyInfo(instance, o.key);
    if (info === undefined) continue;
    const where = info.ns === MAIN_NS ? '' : `${info.ns}/`;
    const base = { variants: [], size: o.meta.size, storedAt: o.meta.storedAt, lastAccess: o.lastAccess };
    if (info.kind === 'tag') items.push({ ...base, kind: 'image', name: `${where}${info.repo}`, version: info.tag });
    else items.push({ ...base, kind: info.kind, name: `${where}${info.digest}`, version: '' });
  }
  return items;
}

/** Maps `DELETE /admin/purge/<instance>/<target…>` to key prefixes. */
export function ociPurgeTarget(instance: string, segments: readonly string[]): { prefixes: string[]; target: string } {
  if (segments.length === 0) return { prefixes: [instancePrefix(instance)], target: '*' };
  if (segments.length === 1 && (segments[0] === 'blobs' || segments[0] === 'manifests')) {
    return { prefixes: [`${registryPrefix(instance, MAIN_NS)}${segments[0]}/`], target: segments[0] };
  }
  let repo: string;
  try {
    repo = checkRepository(segments, MAX_REPO_COMPONENTS);
  } catch {
    throw new RegcacheError('ERR_BAD_REQUEST', 'purge target: a repository name, blobs, manifests, or nothing');
  }
  return { prefixes: [repoPrefix(instance, MAIN_NS, repo)], target: repo };
}
