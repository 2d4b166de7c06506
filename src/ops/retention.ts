/**
 * Retention: objects past the expiry recorded with them (an instance's
 * `expire_after`) and objects unused for `storage.expireAfter` are
 * removed, then, while the store is larger than `maxSize`,
 * least-recently-used artifacts go first (metadata is small and
 * refetchable, artifacts are what fill disks). What an object is comes from
 * its recorded class, never from its key. Never removed: objects a response
 * is streaming right now (`busy`) and markers (a private-scope marker's loss
 * would expose private content; regcache's own records). `dryRun` reports
 * without removing.
 */
import type { ListedObject, ObjectClass, ObjectMeta, Store } from '../core/store.js';

/** Retention settings. */
export interface RetentionOptions {
  maxSize: number | undefined;
  expireAfterMs: number | undefined;
  dryRun: boolean;
  busy: (key: string) => boolean;
  classify: (key: string, meta: ObjectMeta) => ObjectClass;
  now?: number;
}

/** One removal decision. */
export interface Removal {
  key: string;
  size: number;
  lastAccess: string;
  reason: 'expired' | 'over-size';
}

/** What a run did (or would do). */
export interface RetentionReport {
  dryRun: boolean;
  scanned: number;
  bytesBefore: number;
  bytesAfter: number;
  removed: Removal[];
  skippedBusy: number;
}


/** Runs retention over a listing; removal goes through `remove` (cache invalidation). */
export async function applyRetention(
  objects: readonly ListedObject[],
  remove: (key: string) => Promise<unknown>,
  opts: RetentionOptions,
): Promise<RetentionReport> {
  const now = opts.now ?? Date.now();
  const bytesBefore = objects.reduce((n, o) => n + o.meta.size, 0);
  const removed: Removal[] = [];
  let skippedBusy = 0;
  let bytes = bytesBefore;
  const gone = new Set<string>();
  const drop = async (o: ListedObject, reason: Removal['reason']): Promise<void> => {
    if (opts.busy(o.key)) {
      skippedBusy++;
      return;
    }
    if (!opts.dryRun) await remove(o.key);
    gone.add(o.key);
    bytes -= o.meta.size;
    removed.push({ key: o.key, size: o.meta.size, lastAccess: new Date(o.lastAccess).toISOString(), reason });
  };
  const candidates = objects.filter((o) => opts.classify(o.key, o.meta) !== 'marker');
  const unused = opts.expireAfterMs;
  for (const o of candidates) {
    const past = o.meta.expiresAt !== undefined && o.meta.expiresAt <= now;
    if (past || (unused !== undefined && now - o.lastAccess > unused)) await drop(o, 'expired');
  }
  if (opts.maxSize !== undefined && bytes > opts.maxSize) {
    const lru = candidates.filter((o) => opts.classify(o.key, o.meta) === 'artifact' && !gone.has(o.key)).sort((a, b) => a.lastAccess - b.lastAccess);
    for (const o of lru) {
      if (bytes <= opts.maxSize) break;
      await drop(o, 'over-size');
    }
  }
  return { dryRun: opts.dryRun, scanned: objects.length, bytesBefore, bytesAfter: bytes, removed, skippedBusy };
}

/** Deletes `store` objects under `prefix`; used by purge. */
export async function listPrefix(store: Store, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  for await (const o of store.list(prefix)) out.push(o);
  return out;
}
