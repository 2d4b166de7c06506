/**
 * What the store holds: a scan of every object (count, bytes, and the list
 * the admin API, the status page and retention work from). Scans run in
 * the background and on demand — never at start-up and never on the request
 * path — so a store with many objects costs nothing to start.
 */
import type { ListedObject, Store } from '../core/store.js';

/** Totals of the last scan. */
export interface Usage {
  objects: number;
  bytes: number;
  /** Epoch ms of the scan, 0 before the first one. */
  scannedAt: number;
}

/** Tracks store usage. */
export interface UsageTracker {
  current(): Usage;
  /** Lists everything now and refreshes the totals. */
  scan(): Promise<ListedObject[]>;
}

/** Creates the tracker; the first scan happens when first asked or at the first interval. */
export function createUsageTracker(store: Store): UsageTracker {
  let usage: Usage = { objects: 0, bytes: 0, scannedAt: 0 };
  let running: Promise<ListedObject[]> | undefined;
  return {
    current: () => usage,
    scan() {
      running ??= (async () => {
        try {
          const all: ListedObject[] = [];
          for await (const o of store.list('')) all.push(o);
          usage = { objects: all.length, bytes: all.reduce((n, o) => n + o.meta.size, 0), scannedAt: Date.now() };
          return all;
        } finally {
          running = undefined;
        }
      })();
      return running;
    },
  };
}
