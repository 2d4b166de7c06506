/**
 * Request counters are kept in plain maps and folded into prom-client when
 * scraped: every request is counted exactly once, across scrapes, per label
 * set.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestEvent } from '../../src/http/endpoint.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createUsageTracker } from '../../src/ops/usage.js';
import { fsStoreFixtures } from '../support/store-objects.js';

const { freshStore } = fsStoreFixtures('regcache-metrics-');

const event = (over: Partial<RequestEvent>): RequestEvent => ({ method: 'GET', path: '/x', route: 'terraform-mirror', instance: 'terraform', kind: 'metadata', status: 200, cache: 'hit', bytes: 10, ms: 0.1, ...over });

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

void describe('metrics: request counters', () => {
  void it('counts each request once per label set, across scrapes', async () => {
    const m = createMetrics({ inflight: () => 0, usage: createUsageTracker(await freshStore()) });
    const hit = 'regcache_requests_total{instance="terraform",route="terraform-mirror",kind="metadata",result="hit",status_class="2xx"}';
    const miss = 'regcache_requests_total{instance="terraform",route="terraform-mirror",kind="artifact",result="miss",status_class="5xx"}';
    const fromCache = 'regcache_bytes_served_total{source="cache"}';
    const fromUpstream = 'regcache_bytes_served_total{source="upstream"}';
    for (let i = 0; i < 3; i++) m.onRequest(event({}));
    m.onRequest(event({ kind: 'artifact', cache: 'miss', status: 502, bytes: 7 }));
    m.onRequest({ method: 'GET', path: '/health', route: 'health', kind: 'health', status: 200, cache: 'hit', bytes: 99, ms: 0.1 });
    let text = await m.registry.metrics();
    assert.equal(sample(text, hit), 3);
    assert.equal(sample(text, miss), 1);
    assert.equal(sample(text, fromCache), 30, 'endpoint bodies are not counted as served');
    assert.equal(sample(text, fromUpstream), 7);
    assert.equal(sample(text, 'regcache_requests_total{instance="none",route="health",kind="health",result="hit",status_class="2xx"}'), 1);

    text = await m.registry.metrics();
    assert.equal(sample(text, hit), 3, 'a second scrape adds nothing');
    for (let i = 0; i < 2; i++) m.onRequest(event({}));
    text = await m.registry.metrics();
    assert.equal(sample(text, hit), 5);
    assert.equal(sample(text, fromCache), 50);
    assert.equal(sample(text, miss), 1);
  });
});
