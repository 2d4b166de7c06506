/**
 * Prometheus metrics on their own registry (prom-client), fed by the same
 * events as the request log; the core never sees Prometheus.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestEvent } from './request-event.js';
import type { UsageTracker } from './usage.js';

/** Outbound request outcome, from the upstream client. */
export interface UpstreamEvent {
  host: string;
  /** HTTP status, or undefined for a transport error. */
  status: number | undefined;
  seconds: number;
}

/** The metrics sink. */
export interface Metrics {
  readonly registry: Registry;
  onRequest(e: RequestEvent): void;
  onUpstream(e: UpstreamEvent): void;
  onFill(bytes: number, ok: boolean, code: string | undefined): void;
  onLoadError(code: string): void;
  /** A stored copy was revalidated upstream; `notModified`: confirmed by a 304 (renewed, no body transfer). */
  onRevalidated(notModified: boolean): void;
}

const statusClass = (s: number | undefined): string => (s === undefined || s === 0 ? 'error' : `${Math.floor(s / 100)}xx`);

/**
 * Counts per label set kept in a plain Map and added to a prom-client
 * counter when it is collected (a scrape): per request that is one string
 * key and one Map update instead of prom-client's label hashing.
 */
class Tally<L extends Record<string, string>> {
  private readonly pending = new Map<string, { labels: L; n: number }>();

  add(key: string, labels: () => L, n: number): void {
    const e = this.pending.get(key);
    if (e) e.n += n;
    else this.pending.set(key, { labels: labels(), n });
  }

  /** Moves the counts into `counter` (label sets stay, at 0, for the next round). */
  drainInto(counter: Counter<keyof L & string>): void {
    for (const e of this.pending.values()) {
      if (e.n === 0) continue;
      counter.inc(e.labels, e.n);
      e.n = 0;
    }
  }
}

/** Creates the registry and its instruments. */
export function createMetrics(sources: { inflight: () => number; usage: UsageTracker }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'regcache_' });
  const requestTally = new Tally<{ instance: string; route: string; kind: string; result: string; status_class: string }>();
  new Counter({
    name: 'regcache_requests_total',
    help: 'Requests by mode instance (none for built-in endpoints), route, kind (artifact, metadata, or endpoint), cache result and status class',
    labelNames: ['instance', 'route', 'kind', 'result', 'status_class'],
    registers: [registry],
    collect() {
      requestTally.drainInto(this);
    },
  });
  const servedTally = new Tally<{ source: string }>();
  new Counter({
    name: 'regcache_bytes_served_total',
    help: 'Body bytes sent to clients, by source: cache (hit/stale) or upstream (served while filling, or bypassing the cache)',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      servedTally.drainInto(this);
    },
  });
  const fetched = new Counter({ name: 'regcache_bytes_fetched_total', help: 'Artifact bytes downloaded from upstream by committed fills', registers: [registry] });
  const upstreamRequests = new Counter({
    name: 'regcache_upstream_requests_total',
    help: 'Outbound requests by host and status class (error = transport failure)',
    labelNames: ['host', 'status_class'],
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: 'regcache_upstream_request_duration_seconds',
    help: 'Time to upstream response headers',
    labelNames: ['host'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const integrity = new Counter({
    name: 'regcache_integrity_failures_total',
    help: 'Artifacts or checksum files refused by verification, by kind (hash, signature)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const revalidations = new Counter({
    name: 'regcache_revalidations_total',
    help: 'Conditional revalidations of stored copies by result: not_modified (renewed without a body transfer) or modified (replaced)',
    labelNames: ['result'],
    registers: [registry],
  });
  const fills = new Counter({ name: 'regcache_fills_total', help: 'Artifact fills by outcome', labelNames: ['outcome'], registers: [registry] });
  new Gauge({
    name: 'regcache_fills_in_flight',
    help: 'Artifact fills and metadata loads currently running',
    registers: [registry],
    collect() {
      this.set(sources.inflight());
    },
  });
  new Gauge({
    name: 'regcache_store_objects',
    // Every worker scans the store (server.workers): the same figure, not a sum.
    aggregator: 'max',
    help: 'Objects in the store (as of the last usage scan)',
    registers: [registry],
    collect() {
      this.set(sources.usage.current().objects);
    },
  });
  new Gauge({
    name: 'regcache_store_bytes',
    // Every worker scans the store (server.workers): the same figure, not a sum.
    aggregator: 'max',
    help: 'Bytes in the store (as of the last usage scan)',
    registers: [registry],
    collect() {
      this.set(sources.usage.current().bytes);
    },
  });

  return {
    registry,
    onRequest(e) {
      const status = statusClass(e.status);
      const instance = e.instance ?? 'none';
      requestTally.add(`${instance} ${e.route} ${e.kind} ${e.cache} ${status}`, () => ({ instance, route: e.route, kind: e.kind, result: e.cache, status_class: status }), 1);
      if (e.bytes > 0 && (e.kind === 'artifact' || e.kind === 'metadata')) {
        const source = e.cache === 'miss' || e.cache === 'bypass' ? 'upstream' : 'cache';
        servedTally.add(source, () => ({ source }), e.bytes);
      }
    },
    onUpstream(e) {
      upstreamRequests.inc({ host: e.host, status_class: statusClass(e.status) });
      if (e.status !== undefined) upstreamLatency.observe({ host: e.host }, e.seconds);
    },
    onFill(bytes, ok, code) {
      fills.inc({ outcome: ok ? 'committed' : 'failed' });
      if (ok) fetched.inc(bytes);
      if (code === 'ERR_INTEGRITY_MISMATCH') integrity.inc({ kind: 'hash' });
      if (code === 'ERR_SIGNATURE_INVALID') integrity.inc({ kind: 'signature' });
    },
    onRevalidated(notModified) {
      revalidations.inc({ result: notModified ? 'not_modified' : 'modified' });
    },
    onLoadError(code) {
      if (code === 'ERR_SIGNATURE_INVALID') integrity.inc({ kind: 'signature' });
      if (code === 'ERR_INTEGRITY_MISMATCH') integrity.inc({ kind: 'hash' });
    },
  };
}
