/**
 * Which scopes (one provider, one module …) are private, decided from what
 * the store holds, so every worker process and every replica sharing the
 * store decides alike.
 *
 * Invariants:
 * - "Private" is remembered in this process once seen (regcache never
 *   removes a marker: purge and retention keep them). "Public" is never
 *   remembered: a decision not found private in this process's memory reads
 *   the marker from the store, so a scope another process just marked is
 *   honoured at once.
 * - The marker is committed before anything of the scope that needed a
 *   credential (the load awaits it before its answer is stored), and a
 *   marker that cannot be stored fails that load: nothing private is ever
 *   stored unmarked.
 * - Every object stored for a private scope also carries `private=<scope>`
 *   in its attrs (see `privateAttrs`), so whoever reads the object alone
 *   (another process, a listing) sees it too.
 */
import type { Cache } from '../core/cache.js';
import { RegcacheError } from '../core/errors.js';
import { refusalFor } from './refusal.js';

/** The attribute naming the private scope an object belongs to. */
export const PRIVATE_ATTR = 'private';

/** The attrs every object stored for private `scope` carries. */
export function privateAttrs(scope: string): Record<string, string> {
  return { [PRIVATE_ATTR]: scope };
}

/** Whether stored attrs say the object belongs to a private scope. */
export function isPrivateObject(attrs: Readonly<Record<string, string>> | undefined): boolean {
  return attrs?.[PRIVATE_ATTR] !== undefined;
}

const MARKER = 'private';

/** The store key of a scope's privacy marker. */
export function markerKey(scope: string): string {
  return `${scope}/${MARKER}`;
}

/** The scope a marker key belongs to, or undefined when `key` is no marker. */
export function scopeOfMarker(key: string): string | undefined {
  return key.endsWith(`/${MARKER}`) ? key.slice(0, -MARKER.length - 1) : undefined;
}

/** Privacy of scopes, as recorded in the store. */
export interface ScopePrivacy {
  isPrivate(scope: string): Promise<boolean>;
  /**
   * Records that `scope` is private (upstream refused anonymous access with
   * `refusedStatus`); resolves only once the marker is stored.
   */
  markPrivate(scope: string, refusedStatus: number | undefined): Promise<void>;
  /** The one refusal every client that may not see `scope` gets. */
  refusal(scope: string): Promise<RegcacheError>;
}

/** Creates the privacy records over the cache (markers are metadata objects kept forever). */
export function createScopePrivacy(cache: Pick<Cache, 'metadata' | 'peek'>): ScopePrivacy {
  /** Scopes this process saw marked, with the status upstream refused anonymous access with. */
  const known = new Map<string, number>();
  const statusOf = (attrs: Readonly<Record<string, string>>): number => Number(attrs.refused ?? '401') || 401;

  async function lookup(scope: string): Promise<number | undefined> {
    const seen = known.get(scope);
    if (seen !== undefined) return seen;
    // A stat, not a cached read: a store that cannot answer fails the request instead of reading as "no marker".
    const marker = await cache.peek(markerKey(scope));
    if (marker === undefined) return undefined;
    const status = statusOf(marker.attrs ?? {});
    known.set(scope, status);
    return status;
  }

  return {
    async isPrivate(scope) {
      return (await lookup(scope)) !== undefined;
    },

    async markPrivate(scope, refusedStatus) {
      if (known.has(scope)) return;
      const key = markerKey(scope);
      const r = await cache.metadata({
        kind: 'metadata',
        class: 'marker',
        key,
        ttlMs: Number.POSITIVE_INFINITY,
        staleIfErrorMs: 0,
        load: () => Promise.resolve({ body: Buffer.from(MARKER), contentType: 'text/plain', attrs: { refused: String(refusedStatus ?? 401) } }),
      });
      // The cache keeps answers it could not store in memory only: other processes would not see this one.
      if (r.result === 'miss' && (await cache.peek(key)) === undefined) {
        throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cannot record that this content is private, so none of it is stored');
      }
      known.set(scope, statusOf(r.attrs));
    },

    async refusal(scope) {
      return refusalFor(await lookup(scope));
    },
  };
}
