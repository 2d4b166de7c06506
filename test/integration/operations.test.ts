/**
 * Operating regcache: admin API auth and actions (purge levels, metadata-only
 * purge, listing, stats, warm jobs, gc), Prometheus metrics, the allow/deny
 * policy, and retention under a small maxSize.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, jsonOf } from './http-client.js';
import type { CacheListing } from '../../src/http/admin-listing.js';
import { providerNames, providerVersions } from '../support/listing.js';
import { startHarness, waitFor, zipPathOf, type Harness } from './harness.js';

const TOKEN = 'admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];

let h: Harness;
const zipGets = (name: string): number => h.origin.count((p) => p.endsWith('.zip') && p.includes(name), 'GET');

void describe('operations: admin API, metrics, policy', () => {
  before(async () => {
    h = await startHarness({
      providers: [
        { namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: PLATFORMS }, { version: '3.5.0', platforms: PLATFORMS }] },
        { namespace: 'hashicorp', type: 'null', versions: [{ version: '3.2.2', platforms: PLATFORMS }] },
        { namespace: 'evilcorp', type: 'miner', versions: [{ version: '1.0.0', platforms: PLATFORMS }] },
        { namespace: 'acme', type: 'pinned', versions: [{ version: '1.0.0', platforms: PLATFORMS }, { version: '2.0.0', platforms: PLATFORMS }] },
      ],
      extra: {
        admin: { token: TOKEN },
        terraform: { deny: ['registry.terraform.io/evilcorp/*', { source: 'registry.terraform.io/acme/pinned', versions: '>= 2.0.0' }] },
      },
    });
  });
  after(async () => {
    await h?.stop();
  });

  void it('refuses admin requests without the right token, with no detail, and never logs the token', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }]) {
      const r = await h.get('/admin/stats', { headers });
      const body = assertJsonError(r, 401, 'ERR_UNAUTHORIZED');
      assert.deepEqual(body.errors, ['unauthorized']);
    }
    assertJsonError(await h.get('/v1/mirror/registry.terraform.io/hashicorp', { method: 'DELETE' }), 401, 'ERR_UNAUTHORIZED');
    assert.equal((await h.get('/admin/stats', { headers: AUTH })).status, 200);
    assert.ok(!JSON.stringify(h.logs).includes(TOKEN), 'token never logged');
    assert.ok(h.logs.some((l) => l.action === 'stats'), 'admin action logged');
  });

  void it('denied providers and versions answer 403 and are never fetched; denied versions are hidden', async () => {
    const before = h.origin.requests.length;
    assertJsonError(await h.get('/v1/mirror/registry.terraform.io/evilcorp/miner/index.json'), 403, 'ERR_FORBIDDEN');
    assertJsonError(await h.get('/v1/providers/registry.terraform.io/evilcorp/miner/versions'), 403, 'ERR_FORBIDDEN');
    assertJsonError(await h.get('/v1/mirror/registry.terraform.io/acme/pinned/2.0.0.json'), 403, 'ERR_FORBIDDEN');
    assert.equal(h.origin.requests.length, before, 'nothing fetched for denied requests');
    const index = jsonOf<{ versions: Record<string, object> }>(await h.get('/v1/mirror/registry.terraform.io/acme/pinned/index.json'));
    assert.deepEqual(Object.keys(index.versions), ['1.0.0']);
  });

  void it('warms from a list, reports progress, and lists the cache', async () => {
    const r = await h.get('/admin/warm', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ providers: [{ source: 'registry.terraform.io/hashicorp/random', version: '~> 3.5', platforms: ['linux_amd64', 'darwin_arm64'] }] }),
    });
    assert.equal(r.status, 202, r.body.toString());
    const job = jsonOf<{ id: string }>(r);
    let state = '';
    await waitFor(async () => {
      state = jsonOf<{ state: string }>(await h.get(`/admin/warm/${job.id}`, { headers: AUTH })).state;
      return state !== 'running';
    }, 'warm job finished');
    assert.equal(state, 'done');
    assert.equal(zipGets('random_3.6.0_linux_amd64'), 1);
    assert.equal(zipGets('random_3.6.0_darwin_arm64'), 1);
    assert.equal(zipGets('random_3.5.0'), 0, 'only the newest matching version');
    const listing = jsonOf<CacheListing>(await h.get('/admin/cache', { headers: AUTH }));
    assert.deepEqual(providerVersions(listing, 'registry.terraform.io/hashicorp/random')['3.6.0'], ['darwin_arm64', 'linux_amd64']);
    const lock = 'provider "registry.terraform.io/hashicorp/null" {\n  version = "3.2.2"\n  hashes = []\n}\n';
    const r2 = await h.get('/admin/warm?platform=linux_amd64', { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: lock });
    assert.equal(r2.status, 202);
    const id2 = jsonOf<{ id: string }>(r2).id;
    await waitFor(async () => jsonOf<{ state: string }>(await h.get(`/admin/warm/${id2}`, { headers: AUTH })).state === 'done', 'lock-file warm done');
    assert.equal(zipGets('null_3.2.2_linux_amd64'), 1);
    assertJsonError(await h.get('/admin/warm', { method: 'POST', headers: AUTH, body: '{"providers":[{"source":"x/y/z/w"}]}' }), 400, 'ERR_BAD_REQUEST');
  });

  void it('purges at each level; metadata-only purge keeps artifacts', async () => {
    const zip = zipPathOf('hashicorp', 'random', '3.6.0', 'linux', 'amd64');
    assert.equal((await h.get(zip)).status, 200);
    const metaOnly = jsonOf<{ removed: number; keys: string[] }>(await h.get('/v1/mirror/registry.terraform.io/hashicorp/random?only=metadata', { method: 'DELETE', headers: AUTH }));
    assert.ok(metaOnly.removed > 0);
    assert.ok(metaOnly.keys.every((k) => /\/(versions|download\/[a-z0-9]+_[a-z0-9]+)$/.test(k)), metaOnly.keys.join(','));
    const before = zipGets('random_3.6.0_linux_amd64');
    assert.equal((await h.get(zip)).status, 200);
    assert.equal(zipGets('random_3.6.0_linux_amd64'), before, 'zip still cached after a metadata-only purge');

    const v = jsonOf<{ removed: number; target: string }>(await h.get('/v1/mirror/registry.terraform.io/hashicorp/random/3.6.0', { method: 'DELETE', headers: AUTH }));
    assert.equal(v.target, 'registry.terraform.io/hashicorp/random/3.6.0');
    assert.ok(v.removed >= 2);
    assert.equal((await h.get(zip)).status, 200);
    assert.equal(zipGets('random_3.6.0_linux_amd64'), before + 1, 'purged zip is fetched again');
    const ns = jsonOf<{ removed: number }>(await h.get('/v1/mirror/registry.terraform.io/hashicorp', { method: 'DELETE', headers: AUTH }));
    assert.ok(ns.removed > 0);
    const listing = jsonOf<CacheListing>(await h.get('/admin/cache', { headers: AUTH }));
    assert.deepEqual(providerNames(listing), []);
    assertJsonError(await h.get('/v1/mirror/registry.terraform.io/a/b/c/d', { method: 'DELETE', headers: AUTH }), 404, 'ERR_NOT_FOUND');
    assertJsonError(await h.get('/v1/mirror/registry.terraform.io/hashicorp/random/not-a-version', { method: 'DELETE', headers: AUTH }), 400, 'ERR_BAD_REQUEST');
  });

  void it('exposes Prometheus metrics for requests, upstream calls, bytes, fills and integrity failures', async () => {
    h.origin.setFault('null_3.2.2_darwin_arm64.zip', { kind: 'wrongShasum' });
    await h.get(zipPathOf('hashicorp', 'null', '3.2.2', 'darwin', 'arm64'));
    h.origin.clearFaults();
    await h.settle();
    const r = await h.get('/metrics');
    assert.equal(r.status, 200);
    const text = r.body.toString();
    assert.match(text, /regcache_requests_total\{instance="terraform",route="terraform-mirror",kind="artifact",result="hit",status_class="2xx"\} \d+/);
    assert.match(text, /regcache_upstream_requests_total\{host="127\.0\.0\.1:\d+",status_class="2xx"\} \d+/);
    assert.match(text, /regcache_upstream_request_duration_seconds_bucket\{le="0\.1",host=/);
    assert.match(text, /regcache_bytes_served_total\{source="cache"\} [1-9]/);
    assert.match(text, /regcache_bytes_fetched_total [1-9]/);
    assert.match(text, /regcache_integrity_failures_total\{kind="hash"\} 1/);
    assert.match(text, /regcache_fills_in_flight 0/);
    assert.match(text, /regcache_store_bytes \d+/);
    const stats = jsonOf<{ sinceStart: { hits: number; misses: number; bytesFetched: number }; total: { since: string } }>(await h.get('/admin/stats', { headers: AUTH }));
    assert.ok(stats.sinceStart.hits > 0 && stats.sinceStart.misses > 0 && stats.sinceStart.bytesFetched > 0);
  });
});

void describe('operations: separate metrics listener with a token', () => {
  let m: Harness;
  before(async () => {
    m = await startHarness({ extra: { metrics: { listen: '127.0.0.1:0', token: 'metrics-token-123', path: '/metrics' } } });
  });
  after(async () => {
    await m?.stop();
  });

  void it('serves metrics on its own port and the main path, both behind the token', async () => {
    const { rawRequest } = await import('./http-client.js');
    assert.ok(m.app.metricsUrl, 'metrics listener started');
    const metricsUrl = m.app.metricsUrl ?? '';
    assertJsonError(await rawRequest(metricsUrl, '/metrics'), 401, 'ERR_UNAUTHORIZED');
    const ok = await rawRequest(metricsUrl, '/metrics', { headers: { authorization: 'Bearer metrics-token-123' } });
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /regcache_requests_total/);
    assertJsonError(await rawRequest(metricsUrl, '/v1/mirror/registry.terraform.io/a/b/index.json'), 404, 'ERR_NOT_FOUND', 'only metrics on the metrics port');
    assertJsonError(await m.get('/metrics'), 401, 'ERR_UNAUTHORIZED');
  });
});

void describe('operations: retention', () => {
  let r: Harness;
  before(async () => {
    r = await startHarness({
      providers: [{ namespace: 'big', type: 'one', versions: ['1.0.0', '1.1.0', '1.2.0'].map((version) => ({ version, platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: 300_000 })) }],
      extra: { admin: { token: TOKEN }, storage: { maxSize: '700KB', cleanupInterval: '1h' } },
    });
  });
  after(async () => {
    await r?.stop();
  });

  void it('evicts least recently used artifacts down to maxSize, dry-run first', async () => {
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) assert.equal((await r.get(zipPathOf('big', 'one', v, 'linux', 'amd64'))).status, 200);
    await r.settle();
    const dry = jsonOf<{ dryRun: boolean; removed: Array<{ key: string }>; bytesBefore: number }>(await r.get('/admin/gc?dryRun=true', { method: 'POST', headers: AUTH }));
    assert.equal(dry.dryRun, true);
    assert.ok(dry.bytesBefore > 700_000);
    assert.ok(dry.removed.length >= 1);
    assert.match(dry.removed[0]?.key ?? '', /\/1\.0\.0\//, 'oldest version first');
    assert.ok(dry.removed.some((r) => /1\.0\.0\/linux_amd64\/zip$/.test(r.key)), 'its zip among the first evicted');
    const still = jsonOf<CacheListing>(await r.get('/admin/cache', { headers: AUTH }));
    const big = (l: CacheListing): Record<string, string[]> => providerVersions(l, providerNames(l)[0] ?? '');
    assert.equal(Object.keys(big(still)).length, 3, 'dry run removed nothing');
    const real = jsonOf<{ removed: Array<{ key: string }>; bytesAfter: number }>(await r.get('/admin/gc', { method: 'POST', headers: AUTH }));
    assert.ok(real.bytesAfter <= 700_000, String(real.bytesAfter));
    const after = jsonOf<CacheListing>(await r.get('/admin/cache', { headers: AUTH }));
    assert.ok(!('1.0.0' in big(after)), 'least recently used version evicted');
    assert.ok('1.2.0' in big(after), 'most recent kept');
  });
});
