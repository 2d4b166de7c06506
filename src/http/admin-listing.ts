/**
 * Turns a store listing into what an operator wants to read: per instance,
 * the items its mode recognises (provider versions, files …), from the keys
 * under the instance's prefixes; everything else is counted, not listed.
 */
import type { ListedObject } from '../core/store.js';
import type { ListedItem, MountedInstance } from '../mirrors/mode.js';

/** One instance's cached items. */
export interface InstanceListing {
  instance: string;
  mode: string;
  items: ListedItem[];
}

/** The listing of GET /admin/cache and `regcache ls`. */
export interface CacheListing {
  instances: InstanceListing[];
  objects: number;
  bytes: number;
}

/** Groups objects by the instance owning their keys and asks its mode what they are. */
export function describeCache(instances: readonly MountedInstance[], objects: readonly ListedObject[]): CacheListing {
  return {
    instances: instances.map((i) => {
      const mine = objects.filter((o) => i.instance.keyPrefixes.some((p) => o.key.startsWith(p)));
      const items = i.instance.describe(mine).sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
      return { instance: i.name, mode: i.mode, items };
    }),
    objects: objects.length,
    bytes: objects.reduce((n, o) => n + o.meta.size, 0),
  };
}
