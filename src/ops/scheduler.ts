/**
 * Periodic housekeeping: a usage scan (for metrics and the status page) and,
 * when `storage.maxSize` or `storage.expireAfter` is set, retention. Runs
 * off the request path, one run at a time; failures are logged, not fatal.
 */
import type { Logger } from 'pino';
import type { Cache } from '../core/cache.js';
import type { ObjectClass, ObjectMeta } from '../core/store.js';
import { applyRetention, type RetentionReport } from './retention.js';
import type { UsageTracker } from './usage.js';

/** Retention limits from configuration. */
export interface Limits {
  maxSize: number | undefined;
  expireAfterMs: number | undefined;
  intervalMs: number;
  /** Whether this process runs periodic retention (one worker of several does; the others only scan). Default true. */
  retention?: boolean;
  /** `storage.retentionMode`: remove, only report (a dry run each interval), or nothing. Default remove. */
  mode?: 'remove' | 'report' | 'off';
  /** The class of a stored object (recorded, or the owning mode's answer for older objects). */
  classify: (key: string, meta: ObjectMeta) => ObjectClass;
}

/** The housekeeping handle. */
export interface Housekeeping {
  /** One retention run now (also used by the admin API and `regcache gc`). */
  gc(dryRun: boolean): Promise<RetentionReport>;
  stop(): void;
}

/** Starts periodic scans and retention. */
export function startHousekeeping(cache: Cache, usage: UsageTracker, limits: Limits, log: Logger): Housekeeping {
  let running: Promise<RetentionReport> | undefined;
  const gc = (dryRun: boolean): Promise<RetentionReport> => {
    const run = async (): Promise<RetentionReport> => {
      const objects = await usage.scan();
      const report = await applyRetention(objects, (key) => cache.invalidate(key), {
        maxSize: limits.maxSize,
        expireAfterMs: limits.expireAfterMs,
        dryRun,
        busy: (key) => cache.busy(key),
        classify: limits.classify,
      });
      if (!dryRun && report.removed.length > 0) await usage.scan();
      return report;
    };
    const p = (running ?? Promise.resolve()).then(run, run);
    running = p;
    return p;
  };
  // Objects stored with an expiry (an instance's expire_after) are removed once past it, so
  // retention runs whenever this process is the one that runs it.
  const mode = limits.mode ?? 'remove';
  const retention = limits.retention !== false && mode !== 'off';
  const timer = setInterval(() => {
    const report = (r: RetentionReport): void => {
      if (r.removed.length > 0) log.info({ removed: r.removed.length, bytesAfter: r.bytesAfter, dryRun: r.dryRun }, r.dryRun ? 'retention would remove objects (report only)' : 'retention removed objects');
    };
    const work = retention ? gc(mode === 'report').then(report) : usage.scan();
    void work.catch((err: unknown) => log.warn({ err: (err as Error).message }, 'housekeeping failed'));
  }, limits.intervalMs);
  timer.unref();
  return { gc, stop: () => clearInterval(timer) };
}
