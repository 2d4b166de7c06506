/**
 * Cache statistics for the admin API and the status page: counters since
 * this process started, and running totals since the store began (kept in
 * the store itself, flushed periodically and at stop, so they survive
 * restarts). Fed by request and fill events; knows no HTTP.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../core/store.js';
import type { RequestEvent } from './request-event.js';

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
  /** Counters of this process, or of every worker process (server.workers). */
  snapshot(): Promise<StatsSnapshot>;
  /** Writes totals to the store (the lead worker, when there are several). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The other worker processes of this host (server.workers > 1). Each counts
 * its own requests; the lead worker adds everyone's unflushed counts to the
 * stored totals, so a total is written by one process and counted once.
 */
export interface StatsPeers {
  lead: boolean;
  gather(topic: 'stats' | 'stats-drain'): Promise<unknown[]>;
  onCollect(topic: 'stats' | 'stats-drain', fn: () => unknown): void;
}

/** What one worker reports. */
interface Share {
  startedAt: string;
  now: Counters;
  unflushed: Counters;
}

const KEY = 'regcache/stats';
const zero = (): Counters => ({ requests: 0, hits: 0, misses: 0, stale: 0, errors: 0, bytesFromCache: 0, bytesServed: 0, bytesFetched: 0 });
const COUNTERS = Object.keys(zero()) as Array<keyof Counters>;
const add = (into: Counters, from: Partial<Counters> | undefined): Counters => {
  for (const k of COUNTERS) into[k] += Number(from?.[k] ?? 0) || 0;
  return into;
};
function count(c: Counters, e: RequestEvent): void {
  c.requests++;
  c.bytesServed += e.bytes;
  if (e.cache === 'hit') c.hits++;
  else if (e.cache === 'miss') c.misses++;
  else if (e.cache === 'stale') c.stale++;
  else if (e.cache === 'error') c.errors++;
  if (e.kind === 'artifact' && e.cache === 'hit') c.bytesFromCache += e.bytes;
}
const isShare = (v: unknown): v is Share => typeof v === 'object' && v !== null && 'now' in v && 'unflushed' in v;

async function readTotals(store: Store, since: string): Promise<Counters & { since: string }> {
  const base: Counters & { since: string } = { ...zero(), since };
  try {
    const got = await store.read(KEY);
    if (got) return { ...base, ...(JSON.parse(got.body.toString('utf8')) as Partial<Counters & { since: string }>) };
  } catch {
    // unreadable totals start afresh; they are informational only
  }
  return base;
}

/** Loads persisted totals and starts the periodic flush. */
export async function createStats(store: Store, opts: { flushEveryMs?: number; peers?: StatsPeers } = {}): Promise<Stats> {
  const { peers } = opts;
  const startedAt = new Date().toISOString();
  const now = zero();
  /** Counted here and not yet in the stored totals. */
  let unflushed = zero();
  let base = await readTotals(store, startedAt);
  const mine = (): Share => ({ startedAt, now: { ...now }, unflushed: { ...unflushed } });
  const drain = (): Share => {
    const share = mine();
    unflushed = zero();
    return share;
  };
  peers?.onCollect('stats', mine);
  peers?.onCollect('stats-drain', drain);
  const shares = async (topic: 'stats' | 'stats-drain'): Promise<Share[]> => (peers ? (await peers.gather(topic)).filter(isShare) : [topic === 'stats' ? mine() : drain()]);

  async function write(totals: Counters & { since: string }): Promise<void> {
    const body = Buffer.from(JSON.stringify(totals));
    const p = await store.create(KEY);
    try {
      await p.append(body);
      await p.commit({ sha256: createHash('sha256').update(body).digest('hex'), contentType: 'application/json', storedAt: Date.now() });
    } finally {
      await p.dispose();
    }
  }

  async function flush(): Promise<void> {
    if (peers && !peers.lead) return;
    const drained = await shares('stats-drain');
    const delta = zero();
    for (const d of drained) add(delta, d.unflushed);
    const next = add({ ...base }, delta) as Counters & { since: string };
    try {
      await write(next);
      base = next;
    } catch (err) {
      // Counted again at the next flush.
      add(unflushed, delta);
      throw err;
    }
  }

  const timer = setInterval(() => void flush().catch(() => undefined), opts.flushEveryMs ?? 60_000);
  timer.unref();

  return {
    onRequest(e) {
      if (e.kind !== 'artifact' && e.kind !== 'metadata') return;
      count(now, e);
      count(unflushed, e);
    },
    onFill(bytes, ok) {
      if (!ok) return;
      now.bytesFetched += bytes;
      unflushed.bytesFetched += bytes;
    },
    async snapshot() {
      const all = await shares('stats');
      const sinceStart = zero();
      const pending = zero();
      let first = startedAt;
      for (const s of all) {
        add(sinceStart, s.now);
        add(pending, s.unflushed);
        if (typeof s.startedAt === 'string' && s.startedAt < first) first = s.startedAt;
      }
      // With several workers the stored totals move with the lead's flushes: read them as they are now.
      const stored = peers ? await readTotals(store, startedAt) : base;
      const total = add({ ...stored }, pending) as Counters & { since: string };
      const served = sinceStart.hits + sinceStart.misses + sinceStart.stale;
      return { startedAt: first, sinceStart, total, hitRatio: served === 0 ? undefined : (sinceStart.hits + sinceStart.stale) / served };
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush().catch(() => undefined);
    },
  };
}
