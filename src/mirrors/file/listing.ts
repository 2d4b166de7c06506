/**
 * What a `file` instance's stored objects are (one listed file per key,
 * named by its path) and what an admin purge below it covers: a directory
 * path purges every file under it, no path the whole instance.
 */
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';
import { directoryPrefix, pathOfKey } from './paths.js';

/** Lists the instance's cached files. */
export function describeFiles(instance: string, objects: readonly ListedObject[]): ListedItem[] {
  const items: ListedItem[] = [];
  for (const o of objects) {
    const path = pathOfKey(instance, o.key);
    if (path === undefined) continue;
    items.push({ kind: 'file', name: path, version: '', variants: [], size: o.meta.size, storedAt: o.meta.storedAt, lastAccess: o.lastAccess });
  }
  return items;
}

/** Maps `DELETE /admin/purge/<instance>/<dir…>` to the key prefix of that directory. */
export function filePurgeTarget(instance: string, segments: readonly string[]): { prefixes: string[]; target: string } {
  return { prefixes: [directoryPrefix(instance, segments)], target: segments.length === 0 ? '*' : `${segments.join('/')}/` };
}
