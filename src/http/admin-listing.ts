/**
 * Turns a store listing into what an operator wants to read: providers
 * (versions, platforms, sizes, last access) and modules, from cache keys.
 * Entries of a private scope (its marker is listed, or any of its objects
 * is stored as private) say so, and views without authentication leave
 * them out (see `publicOnly`).
 */
import { PRIVATE_ATTR, scopeOfMarker } from '../access/scope-privacy.js';
import type { ListedObject } from '../core/store.js';

/** One cached provider. */
export interface ProviderListing {
  provider: string;
  versions: Record<string, Record<string, { size: number; storedAt: string; lastAccess: string }>>;
  /** Set when the provider is private: never shown on an unauthenticated page. */
  private?: true;
}

/** One cached module. */
export interface ModuleListing {
  module: string;
  versions: Record<string, { size: number; storedAt: string; lastAccess: string }>;
  /** Set when the module is private: never shown on an unauthenticated page. */
  private?: true;
}

/** The private scopes a listing shows: those with a marker, and those of objects stored as private. */
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
const iso = (ms: number): string => new Date(ms).toISOString();

/** Groups artifacts by provider and module (metadata objects are counted, not listed). */
export function describeCache(objects: readonly ListedObject[]): { providers: ProviderListing[]; modules: ModuleListing[]; objects: number; bytes: number } {
  const providers = new Map<string, ProviderListing>();
  const modules = new Map<string, ModuleListing>();
  const hidden = privateScopes(objects);
  for (const o of objects) {
    const p = o.key.split('/');
    const entry = { size: o.meta.size, storedAt: iso(o.meta.storedAt), lastAccess: iso(o.lastAccess) };
    if (p[0] === 'tf' && p[1] === 'providers' && p.length === 8 && p[7] === 'zip') {
      const name = `${host(p[2] ?? '')}/${p[3]}/${p[4]}`;
      const l = providers.get(name) ?? { provider: name, versions: {}, ...(hidden.has(p.slice(0, 5).join('/')) ? { private: true as const } : {}) };
      const v = (l.versions[p[5] ?? ''] ??= {});
      v[p[6] ?? ''] = entry;
      providers.set(name, l);
    } else if (p[0] === 'tf' && p[1] === 'modules' && p.length === 8 && p[7] === 'archive') {
      const name = `${host(p[2] ?? '')}/${p[3]}/${p[4]}/${p[5]}`;
      const l = modules.get(name) ?? { module: name, versions: {}, ...(hidden.has(p.slice(0, 6).join('/')) ? { private: true as const } : {}) };
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

/** A listing for a view without authentication: private providers and modules left out. */
export function publicOnly<T extends { providers: ProviderListing[]; modules: ModuleListing[] }>(listing: T): T {
  return { ...listing, providers: listing.providers.filter((p) => !p.private), modules: listing.modules.filter((m) => !m.private) };
}
