/**
 * What a `cargo` instance's stored objects are (one listed crate version
 * per `.crate` key; config.json and index files are metadata and only
 * counted) and what an admin purge covers: nothing named purges the whole
 * instance, a crate name its index file and every version, a name and a
 * version that one `.crate`.
 */
import { isPrivateObject } from '../../access/scope-privacy.js';
import { RegcacheError } from '../../core/errors.js';
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';
import { checkCrateName, checkVersion, crateKey, crateOfKey, crateScope, instancePrefix } from './names.js';

/** Lists the instance's cached crate versions. */
export function describeCrates(instance: string, objects: readonly ListedObject[]): ListedItem[] {
  const items: ListedItem[] = [];
  for (const o of objects) {
    const c = crateOfKey(instance, o.key);
    if (c === undefined) continue;
    items.push({
      kind: 'crate',
      name: c.name,
      version: c.version,
      variants: [],
      size: o.meta.size,
      storedAt: o.meta.storedAt,
      lastAccess: o.lastAccess,
      ...(isPrivateObject(o.meta.attrs) ? { private: true } : {}),
    });
  }
  return items;
}

/** Maps `DELETE /admin/purge/<instance>[/<crate>[/<version>]]` to key prefixes and keys. */
export function cargoPurgeTarget(instance: string, segments: readonly string[]): { prefixes: string[]; keys: string[]; target: string } {
  if (segments.length === 0) return { prefixes: [instancePrefix(instance)], keys: [], target: '*' };
  const lname = checkCrateName(segments[0] ?? '').toLowerCase();
  if (segments.length === 1) return { prefixes: [`${crateScope(instance, lname)}/`], keys: [], target: lname };
  if (segments.length === 2) {
    const version = checkVersion(segments[1] ?? '');
    return { prefixes: [], keys: [crateKey(instance, lname, version)], target: `${lname}/${version}` };
  }
  throw new RegcacheError('ERR_NOT_FOUND', 'purge a crate (name) or one version (name/version)');
}
