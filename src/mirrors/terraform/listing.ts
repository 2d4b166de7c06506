/**
 * What the Terraform mode's stored objects are, for `regcache ls`, the
 * admin listing and the status page: provider zips by version and
 * platform, module archives by version. Metadata is counted elsewhere.
 */
import { PRIVATE_ATTR, scopeOfMarker } from '../../access/scope-privacy.js';
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';

/** The private scopes among the objects: those with a marker, and those of objects stored as private. */
function privateScopes(objects: readonly ListedObject[]): Set<string> {
  const scopes = new Set<string>();
  for (const o of objects) {
    const marked = scopeOfMarker(o.key);
    if (marked !== undefined) scopes.add(marked);
    const scope = o.meta.attrs?.[PRIVATE_ATTR];
    if (scope !== undefined) scopes.add(scope);
  }
  return scopes;
}

const host = (k: string): string => k.replace('_', ':');

/** One item per cached provider version (platforms as variants) and per cached module version. */
export function describeTerraform(objects: readonly ListedObject[]): ListedItem[] {
  const providers = new Map<string, ListedItem>();
  const items: ListedItem[] = [];
  const hidden = privateScopes(objects);
  for (const o of objects) {
    const p = o.key.split('/');
    const scope = p.slice(0, p[1] === 'providers' ? 5 : 6).join('/');
    const priv = hidden.has(scope) ? { private: true } : {};
    if (p[0] === 'tf' && p[1] === 'providers' && p.length === 8 && p[7] === 'zip') {
      const name = `${host(p[2] ?? '')}/${p[3]}/${p[4]}`;
      const version = p[5] ?? '';
      const id = `${name}@${version}`;
      const item = providers.get(id) ?? { kind: 'provider', name, version, variants: [], size: 0, storedAt: 0, lastAccess: 0, ...priv };
      item.variants.push(p[6] ?? '');
      item.variants.sort();
      item.size += o.meta.size;
      item.storedAt = Math.max(item.storedAt, o.meta.storedAt);
      item.lastAccess = Math.max(item.lastAccess, o.lastAccess);
      providers.set(id, item);
    } else if (p[0] === 'tf' && p[1] === 'modules' && p.length === 8 && p[7] === 'archive') {
      items.push({ kind: 'module', name: `${host(p[2] ?? '')}/${p[3]}/${p[4]}/${p[5]}`, version: p[6] ?? '', variants: [], size: o.meta.size, storedAt: o.meta.storedAt, lastAccess: o.lastAccess, ...priv });
    }
  }
  return [...providers.values(), ...items];
}

/** The class of a Terraform object stored before classes were recorded. */
export function legacyTerraformClass(key: string): 'artifact' | 'metadata' | 'marker' | undefined {
  if (!key.startsWith('tf/')) return undefined;
  if (key.endsWith('/private')) return 'marker';
  // Zips and archives, and the immutable records derived per version (signed SHA256SUMS, h1 hashes).
  if (/\/(zip|archive|shasums|h1)$/.test(key) || key.startsWith('tf/git-archives/')) return 'artifact';
  return 'metadata';
}
