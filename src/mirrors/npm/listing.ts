/**
 * What an `npm` instance's stored objects are (one listed item per cached
 * tarball: the package, and its version read from the file name) and what
 * an admin purge covers: a package name purges that package (packuments and
 * tarballs, never its privacy marker), no name the whole instance.
 */
import { PRIVATE_ATTR } from '../../access/scope-privacy.js';
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';
import { checkName, instancePrefix, packageScope, tarballOfKey } from './names.js';

/** Lists the instance's cached tarballs. */
export function describeTarballs(instance: string, objects: readonly ListedObject[]): ListedItem[] {
  const items: ListedItem[] = [];
  for (const o of objects) {
    const t = tarballOfKey(instance, o.key);
    if (!t) continue;
    const base = t.name.slice(t.name.lastIndexOf('/') + 1);
    const version = t.file.startsWith(`${base}-`) ? t.file.slice(base.length + 1, -'.tgz'.length) : t.file;
    items.push({
      kind: 'package',
      name: t.name,
      version,
      variants: [],
      size: o.meta.size,
      storedAt: o.meta.storedAt,
      lastAccess: o.lastAccess,
      ...(o.meta.attrs?.[PRIVATE_ATTR] !== undefined ? { private: true } : {}),
    });
  }
  return items;
}

/** Maps `DELETE /admin/purge/<instance>/<name>` (or `@scope/name`) to the package's packuments and tarballs. */
export function npmPurgeTarget(instance: string, segments: readonly string[]): { prefixes: string[]; target: string } {
  if (segments.length === 0) return { prefixes: [instancePrefix(instance)], target: '*' };
  const name = checkName(segments);
  const scope = packageScope(instance, name);
  return { prefixes: [`${scope}/packument/`, `${scope}/tgz/`], target: name };
}
