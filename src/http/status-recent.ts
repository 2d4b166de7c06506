/**
 * The status page's "recently cached" list. It comes from a store scan,
 * which can be expensive on a big store, so the page waits for one only the
 * first time it needs it; afterwards it shows the last scan's list and starts
 * a background rescan at most once per interval.
 */
import type { UsageTracker } from '../ops/usage.js';
import type { ListedObject } from '../core/store.js';
import type { MountedInstance } from '../mirrors/mode.js';
import { describeCache } from './admin-listing.js';

/** Shortest gap between two store scans started by the page. */
export const RESCAN_INTERVAL_MS = 60_000;
/** How many entries the page lists. */
export const RECENT_LIMIT = 20;

/** One recently cached item (a provider version, a module version, a file). */
export interface RecentItem {
  instance: string;
  kind: string;
  name: string;
  version: string;
  /** Variants within the version (platforms); empty when none. */
  platforms: string[];
  size: number;
  storedAt: string;
}

/** The list from one scan. */
export interface RecentList {
  items: RecentItem[];
  /** Epoch ms when the scan finished. */
  at: number;
}

/**
 * Newest items of a store listing, as the instances' modes describe them.
 * Content of a private scope is never listed: the page is unauthenticated.
 */
export function recentItems(instances: readonly MountedInstance[], objects: readonly ListedObject[], limit = RECENT_LIMIT): RecentItem[] {
  const items: RecentItem[] = describeCache(instances, objects).instances.flatMap((l) =>
    l.items.filter((it) => it.private !== true).map((it) => ({ instance: l.instance, kind: it.kind, name: it.name, version: it.version, platforms: it.variants, size: it.size, storedAt: new Date(it.storedAt).toISOString() })),
  );
  const newestFirst = (a: RecentItem, b: RecentItem): number => (a.storedAt === b.storedAt ? a.name.localeCompare(b.name) : a.storedAt < b.storedAt ? 1 : -1);
  return items.sort(newestFirst).slice(0, limit);
}

/**
 * Returns a function giving the last scan's recent list: undefined while no
 * scan succeeded. Blocks only when there is no list yet and a scan is due or
 * running; a failed scan is retried after the interval.
 */
export function createRecentTracker(instances: readonly MountedInstance[], usage: UsageTracker, intervalMs = RESCAN_INTERVAL_MS, now: () => number = Date.now): () => Promise<RecentList | undefined> {
  let recent: RecentList | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  const rescan = (): Promise<void> => {
    lastStart = now();
    running ??= usage
      .scan()
      .then(
        (objects) => {
          recent = { items: recentItems(instances, objects), at: now() };
        },
        () => undefined, // the page says the store could not be listed
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return async () => {
    const due = now() - lastStart >= intervalMs;
    if (recent === undefined) {
      if (due) await rescan();
      else if (running) await running;
    } else if (due) void rescan();
    return recent;
  };
}
