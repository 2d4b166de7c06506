/**
 * regcache_revalidations_total counts the revalidations the cache reports,
 * by whether upstream confirmed the stored copy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
