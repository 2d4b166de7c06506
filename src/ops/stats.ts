/**
 * Cache statistics for the admin API and the status page: counters since
 * this process started, and running totals since the store began (kept in
 * the store itself, flushed periodically and at stop, so they survive
 * restarts). Fed by request and fill events; knows no HTTP.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.js';
import type { RequestEvent } from '../http/endpoint.js';

/** One set of counters. */
export interface Counters {
  requests: number;
  hits: number;
  misses: number;
  stale: number;
  errors: number;
  /** Artifact bytes sent to clients from the cache (= upstream traffic saved). */
  bytesFromCache: number;
  /** Bytes sent to clients in total. */
  bytesServed: number;
  /** Artifact bytes downloaded from upstream by fills. */
  bytesFetched: number;
}

/** Counters since start and since the store began. */
export interface StatsSnapshot {
  startedAt: string;
  sinceStart: Counters;
  total: Counters & { since: string };
  hitRatio: number | undefined;
}

/** The stats collector. */
export interface Stats {
  onRequest(e: RequestEvent): void;
  onFill(bytes: number, ok: boolean): void;
  snapshot(): StatsSnapshot;
  /** Writes totals to the store. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const KEY = 'regcache/stats';
const zero = (): Counters => ({ requests: 0, hits: 0, misses: 0, stale: 0, errors: 0, bytesFromCache: 0, bytesServed: 0, bytesFetched: 0 });

/** Loads persisted totals and starts the periodic flush. */
export async function createStats(store: Store, flushEveryMs = 60_000): Promise<Stats> {
  const startedAt = new Date().toISOString();
  const now = zero();
  let base: Counters & { since: string } = { ...zero(), since: startedAt };
  try {
    const got = await store.read(KEY);
    if (got) base = { ...base, ...(JSON.parse(got.body.toString('utf8')) as Partial<Counters & { since: string }>) };
  } catch {
    // unreadable totals start afresh; they are informational only
  }
  const flushed = zero();

  const total = (): Counters & { since: string } => {
    const t = { ...base };
    for (const k of Object.keys(now) as Array<keyof Counters>) t[k] = base[k] + now[k];
    return t;
  };

  async function flush(): Promise<void> {
    const t = total();
    const body = Buffer.from(JSON.stringify(t));
    const p = await store.create(KEY);
    try {
      await p.append(body);
      await p.commit({ sha256: createHash('sha256').update(body).digest('hex'), contentType: 'application/json', storedAt: Date.now() });
      Object.assign(flushed, now);
    } finally {
      await p.dispose();
    }
  }

  const timer = setInterval(() => void flush().catch(() => undefined), flushEveryMs);
  timer.unref();

  return {
    onRequest(e) {
      if (e.kind !== 'artifact' && e.kind !== 'metadata') return;
      now.requests++;
      now.bytesServed += e.bytes;
      if (e.cache === 'hit') now.hits++;
      else if (e.cache === 'miss') now.misses++;
      else if (e.cache === 'stale') now.stale++;
      else if (e.cache === 'error') now.errors++;
      if (e.kind === 'artifact' && e.cache === 'hit') now.bytesFromCache += e.bytes;
    },
    onFill(bytes, ok) {
      if (ok) now.bytesFetched += bytes;
    },
    snapshot() {
      const served = now.hits + now.misses + now.stale;
      return { startedAt, sinceStart: { ...now }, total: total(), hitRatio: served === 0 ? undefined : (now.hits + now.stale) / served };
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush().catch(() => undefined);
    },
  };
}
