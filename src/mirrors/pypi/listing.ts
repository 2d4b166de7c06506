/**
 * What a `pypi` instance's stored objects are (one listed file per
 * distribution file or sidecar, named by its project, version taken from
 * the file name) and what an admin purge covers: a project name purges
 * the project (index, JSON answer, files), no name the whole instance.
 */
import { RegcacheError } from '../../core/errors.js';
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';
import { fileOfKey, instancePrefix, normalizeName, projectPrefix, validProjectName } from './names.js';

/** The version in a wheel or sdist file name (`name-1.0-py3-none-any.whl`, `name-1.0.tar.gz`), or ''. */
export function versionOf(filename: string): string {
  const base = filename.replace(/\.metadata$/, '').replace(/\.(whl|tar\.gz|zip|tar\.bz2|tgz)$/, '');
  const parts = base.split('-');
  return parts.length >= 2 ? (parts[1] ?? '') : '';
}

/** Lists the instance's cached files. */
export function describePypi(instance: string, objects: readonly ListedObject[]): ListedItem[] {
  const items: ListedItem[] = [];
  for (const o of objects) {
    const f = fileOfKey(instance, o.key);
    if (!f) continue;
    items.push({
      kind: f.filename.endsWith('.metadata') ? 'metadata' : 'file',
      name: f.project,
      version: versionOf(f.filename),
      variants: [f.filename],
      size: o.meta.size,
      storedAt: o.meta.storedAt,
      lastAccess: o.lastAccess,
    });
  }
  return items;
}

/** Maps `DELETE /admin/purge/<instance>[/<project>]` to key prefixes. */
export function pypiPurgeTarget(instance: string, segments: readonly string[]): { prefixes: string[]; target: string } {
  if (segments.length === 0) return { prefixes: [instancePrefix(instance)], target: '*' };
  const [name] = segments;
  if (segments.length !== 1 || name === undefined || !validProjectName(name)) throw new RegcacheError('ERR_BAD_REQUEST', 'purge a project by name: /admin/purge/<instance>/<project>');
  const project = normalizeName(name);
  return { prefixes: [projectPrefix(instance, project)], target: project };
}
