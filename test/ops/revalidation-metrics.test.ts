/**
 * regcache_revalidations_total counts the revalidations the cache reports,
 * by whether upstream confirmed the stored copy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestEvent } from '../../src/ops/request-event.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createUsageTracker } from '../../src/ops/usage.js';
import { fsStoreFixtures } from '../support/store-objects.js';

const { freshStore } = fsStoreFixtures('regcache-metrics-');

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

void describe('metrics: revalidations', () => {
  void it('counts not_modified and modified revalidations apart', async () => {
    const m = createMetrics({ inflight: () => 0, usage: createUsageTracker(await freshStore()) });
    m.onRevalidated(true);
    m.onRevalidated(true);
    m.onRevalidated(false);
    const text = await m.registry.metrics();
    assert.equal(sample(text, 'regcache_revalidations_total{result="not_modified"}'), 2);
    assert.equal(sample(text, 'regcache_revalidations_total{result="modified"}'), 1);
  });
});

void describe('metrics: bypassed bytes', () => {
  void it('counts bytes a bypass streamed from upstream as upstream bytes', async () => {
    const m = createMetrics({ inflight: () => 0, usage: createUsageTracker(await freshStore()) });
    const e: RequestEvent = { method: 'GET', path: '/f', route: 'file', kind: 'artifact', status: 200, cache: 'bypass', bytes: 500, ms: 1 };
    m.onRequest(e);
    const text = await m.registry.metrics();
    assert.equal(sample(text, 'regcache_bytes_served_total{source="upstream"}'), 500);
    assert.equal(sample(text, 'regcache_bytes_served_total{source="cache"}'), 0);
  });
});
