/**
 * What a `file` instance's stored objects are (one listed file per key,
 * named by its path) and what an admin purge covers: a path purges the
 * file there and every file under it, no path the whole instance.
 */
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';
import { directoryPrefix, filePath, pathOfKey } from './paths.js';

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

/**
 * Maps `DELETE /admin/purge/<instance>/<path…>` to what it names: the file
 * at that path (an exact key) and every file below it as a directory (a
 * key prefix). No path: the whole instance.
 */
export function filePurgeTarget(instance: string, segments: readonly string[]): { prefixes: string[]; keys: string[]; target: string } {
  if (segments.length === 0) return { prefixes: [directoryPrefix(instance, segments)], keys: [], target: '*' };
  return { prefixes: [directoryPrefix(instance, segments)], keys: [filePath(instance, segments).key], target: segments.join('/') };
}
