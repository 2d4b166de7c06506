/**
 * Turns a store listing into what an operator wants to read: providers
 * (versions, platforms, sizes, last access) and modules, from cache keys.
 */
import type { ListedObject } from '../core/store.js';

/** One cached provider. */
export interface ProviderListing {
  provider: string;
  versions: Record<string, Record<string, { size: number; storedAt: string; lastAccess: string }>>;
}

/** One cached module. */
export interface ModuleListing {
  module: string;
  versions: Record<string, { size: number; storedAt: string; lastAccess: string }>;
}

const host = (k: string): string => k.replace('_', ':');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Groups artifacts by provider and module (metadata objects are counted, not listed). */
export function describeCache(objects: readonly ListedObject[]): { providers: ProviderListing[]; modules: ModuleListing[]; objects: number; bytes: number } {
  const providers = new Map<string, ProviderListing>();
  const modules = new Map<string, ModuleListing>();
  for (const o of objects) {
    const p = o.key.split('/');
    const entry = { size: o.meta.size, storedAt: iso(o.meta.storedAt), lastAccess: iso(o.lastAccess) };
    if (p[0] === 'tf' && p[1] === 'providers' && p.length === 8 && p[7] === 'zip') {
      const name = `${host(p[2] ?? '')}/${p[3]}/${p[4]}`;
      const l = providers.get(name) ?? { provider: name, versions: {} };
      const v = (l.versions[p[5] ?? ''] ??= {});
      v[p[6] ?? ''] = entry;
      providers.set(name, l);
    } else if (p[0] === 'tf' && p[1] === 'modules' && p.length === 8 && p[7] === 'archive') {
      const name = `${host(p[2] ?? '')}/${p[3]}/${p[4]}/${p[5]}`;
      const l = modules.get(name) ?? { module: name, versions: {} };
      l.versions[p[6] ?? ''] = entry;
      modules.set(name, l);
    }
  }
  return {
    providers: [...providers.values()].sort((a, b) => a.provider.localeCompare(b.provider)),
    modules: [...modules.values()].sort((a, b) => a.module.localeCompare(b.module)),
    objects: objects.length,
    bytes: objects.reduce((n, o) => n + o.meta.size, 0),
  };
}
