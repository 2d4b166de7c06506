/**
 * What a `provider_mirror` instance's stored objects are, for listings
 * (provider zips by version, platforms as variants; private ones flagged),
 * and which key prefixes an admin purge path names:
 * `/admin/purge/<instance>[/<hostname>[/<namespace>[/<type>]]]`.
 */
import { PRIVATE_ATTR, scopeOfMarker } from '../../access/scope-privacy.js';
import { RegcacheError } from '../../core/errors.js';
import type { ListedObject } from '../../core/store.js';
import type { ListedItem } from '../mode.js';
import { instancePrefix } from './names.js';

const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,252}$/;

/** One item per cached provider version; its platforms are the variants. */
export function describeProviders(instance: string, objects: readonly ListedObject[]): ListedItem[] {
  const head = instancePrefix(instance);
  const hidden = new Set<string>();
  for (const o of objects) {
    const marked = scopeOfMarker(o.key);
    if (marked !== undefined) hidden.add(marked);
    const scope = o.meta.attrs?.[PRIVATE_ATTR];
    if (scope !== undefined) hidden.add(scope);
  }
  const items = new Map<string, ListedItem>();
  for (const o of objects) {
    if (!o.key.startsWith(head)) continue;
    const p = o.key.slice(head.length).split('/');
    if (p.length !== 5 || p[3] !== 'blobs') continue;
    const name = p.slice(0, 3).join('/');
    const version = o.meta.attrs?.version ?? '';
    const id = `${name}@${version}`;
    const item = items.get(id) ?? { kind: 'provider', name, version, variants: [], size: 0, storedAt: 0, lastAccess: 0, ...(hidden.has(`${head}${name}`) ? { private: true } : {}) };
    const platform = o.meta.attrs?.platform;
    if (platform !== undefined && !item.variants.includes(platform)) item.variants.push(platform);
    item.variants.sort();
    item.size += o.meta.size;
    item.storedAt = Math.max(item.storedAt, o.meta.storedAt);
    item.lastAccess = Math.max(item.lastAccess, o.lastAccess);
    items.set(id, item);
  }
  return [...items.values()];
}

/** The key prefixes of a purge path (hostname, namespace, type: each optional from the right). */
export function providerPurgeTarget(instance: string, segments: readonly string[]): { prefixes: string[]; target: string } {
  if (segments.length > 3) throw new RegcacheError('ERR_NOT_FOUND', 'purge names at most <hostname>/<namespace>/<type>');
  for (const s of segments) if (!SEGMENT.test(s)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid purge path');
  const rest = segments.join('/');
  return { prefixes: [`${instancePrefix(instance)}${rest === '' ? '' : `${rest}/`}`], target: rest === '' ? '*' : rest };
}
