/**
 * The status page's "recently cached" list. It comes from a store scan,
 * which can be expensive on a big store, so the page waits for one only the
 * first time it needs it; afterwards it shows the last scan's list and starts
 * a background rescan at most once per interval.
 */
import type { UsageTracker } from '../ops/usage.js';
import type { ListedObject } from '../core/store.js';
import { describeCache, publicOnly } from './admin-listing.js';

/** Shortest gap between two store scans started by the page. */
export const RESCAN_INTERVAL_MS = 60_000;
/** How many entries the page lists. */
export const RECENT_LIMIT = 20;

/** One recently cached provider or module version. */
export interface RecentItem {
  kind: 'provider' | 'module';
  name: string;
  version: string;
  /** `os_arch` of the cached provider zips; empty for modules. */
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

/** Newest provider and module versions of a store listing, one entry per version; private ones are never listed (the page needs no token). */
export function recentItems(objects: readonly ListedObject[], limit = RECENT_LIMIT): RecentItem[] {
  const { providers, modules } = publicOnly(describeCache(objects));
  const items: RecentItem[] = [];
  for (const p of providers) {
    for (const [version, platforms] of Object.entries(p.versions)) {
      const files = Object.values(platforms);
      items.push({
        kind: 'provider',
        name: p.provider,
        version,
        platforms: Object.keys(platforms).sort(),
        size: files.reduce((n, f) => n + f.size, 0),
        storedAt: files.reduce((latest, f) => (f.storedAt > latest ? f.storedAt : latest), ''),
      });
    }
  }
  for (const m of modules) {
    for (const [version, f] of Object.entries(m.versions)) items.push({ kind: 'module', name: m.module, version, platforms: [], size: f.size, storedAt: f.storedAt });
  }
  const newestFirst = (a: RecentItem, b: RecentItem): number => (a.storedAt === b.storedAt ? a.name.localeCompare(b.name) : a.storedAt < b.storedAt ? 1 : -1);
  return items.sort(newestFirst).slice(0, limit);
}

/**
 * Returns a function giving the last scan's recent list: undefined while no
 * scan succeeded. Blocks only when there is no list yet and a scan is due or
 * running; a failed scan is retried after the interval.
 */
export function createRecentTracker(usage: UsageTracker, intervalMs = RESCAN_INTERVAL_MS, now: () => number = Date.now): () => Promise<RecentList | undefined> {
  let recent: RecentList | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  const rescan = (): Promise<void> => {
    lastStart = now();
    running ??= usage
      .scan()
      .then(
        (objects) => {
          recent = { items: recentItems(objects), at: now() };
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
