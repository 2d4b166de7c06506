/**
 * cache-proxy's npm policies, each against its own regcache: packuments
 * `immutable` (never asked again) and `bypass` (asked every time, nothing
 * stored), `revalidate` with a 0 freshness (every request a conditional
 * one, 304s counted by upstream and by regcache's metrics), tarballs
 * `revalidate`, and upstream faults (5xx, slow) with and without a stored
 * copy.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CORGI, startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { metricsOf, metricSum } from '../file/support.js';
import { get, sleep, startNpmCache } from './support.js';

async function storedPackuments(dataDir: string): Promise<number> {
  const entries = await readdir(join(dataDir, 'cache', 'objects', 'npm'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.parentPath.endsWith('packument')).length;
}

void describe('npm mode: policies and faults', { timeout: 300_000 }, () => {
  let o: NpmOrigin;
  const procs: RegcacheProcess[] = [];
  const cache = async (block: Record<string, unknown>): Promise<string> => {
    const p = await startNpmCache(o, block);
    procs.push(p);
    return `${p.url}/npm`;
  };
  before(async () => {
    o = await startNpmOrigin();
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await o?.close();
  });

  void it('metadata_policy immutable: a packument is fetched once, past any freshness', async () => {
    const base = await cache({ metadata_policy: 'immutable', metadata_fresh_for: '1s' });
    const n = o.count('/chain-b');
    assert.equal((await get(`${base}/chain-b`, { accept: CORGI })).status, 200);
    await sleep(1100);
    assert.equal((await get(`${base}/chain-b`, { accept: CORGI })).status, 200);
    assert.equal(o.count('/chain-b') - n, 1);
    assert.equal(await storedPackuments(procs[procs.length - 1]?.dataDir ?? ''), 1, 'stored (what the bypass test counts)');
  });

  void it('metadata_policy bypass: every packument request goes upstream and nothing is stored; tarballs are still verified and cached', async () => {
    const base = await cache({ metadata_policy: 'bypass' });
    const n = o.count('/chain-c');
    for (let i = 0; i < 3; i++) assert.equal((await get(`${base}/chain-c`, { accept: CORGI })).status, 200);
    assert.equal(o.count('/chain-c') - n, 3);
    const p = procs[procs.length - 1];
    assert.equal(await storedPackuments(p?.dataDir ?? ''), 0);
    const v = o.version('chain-c', '1.0.0');
    const t = await get(`${base}${v.path}`);
    assert.ok(t.body.equals(v.tarball));
  });

  void it('revalidate with metadata_fresh_for 0: each request is a conditional one, answered 304 and counted', async () => {
    const base = await cache({ metadata_fresh_for: '0s' });
    const p = procs[procs.length - 1];
    assert.ok(p);
    const before = o.conditional('/lite-pad');
    const m0 = metricSum(await metricsOf(p), 'regcache_revalidations_total', { result: 'not_modified' });
    for (let i = 0; i < 3; i++) assert.equal((await get(`${base}/lite-pad`, { accept: CORGI })).status, 200);
    const after = o.conditional('/lite-pad');
    assert.equal(after.notModified - before.notModified, 2, 'first a full GET, then two 304s');
    assert.equal(metricSum(await metricsOf(p), 'regcache_revalidations_total', { result: 'not_modified' }) - m0, 2);
  });

  void it('tarball_policy revalidate: a stored tarball is revalidated (304) and served', async () => {
    const base = await cache({ tarball_policy: 'revalidate' });
    const v = o.version('lite-pad', '1.0.0');
    const before = o.conditional(v.path);
    assert.ok((await get(`${base}${v.path}`)).body.equals(v.tarball));
    assert.ok((await get(`${base}${v.path}`)).body.equals(v.tarball));
    assert.equal(o.conditional(v.path).notModified - before.notModified, 1);
  });

  void it('upstream 5xx or slow: a stored packument is served, an uncached one is a 502', async () => {
    const base = await cache({ metadata_fresh_for: '1s' });
    assert.equal((await get(`${base}/@acme/widget`, { accept: CORGI })).status, 200);
    await sleep(1100);
    o.fault('/@acme/', { kind: 'status', status: 503 });
    o.fault('/chain-a', { kind: 'status', status: 500 });
    try {
      const stale = await get(`${base}/@acme/widget`, { accept: CORGI });
      assert.equal(stale.status, 200);
      assert.equal((JSON.parse(stale.body.toString()) as { name: string }).name, '@acme/widget');
      const cold = await get(`${base}/chain-a`, { accept: CORGI });
      assert.equal(cold.status, 502);
      assert.match(cold.body.toString(), /ERR_UPSTREAM_STATUS/);
    } finally {
      o.fault('/@acme/', undefined);
      o.fault('/chain-a', undefined);
    }
    o.fault('/old-sha1', { kind: 'slow', bytesPerSecond: 20_000 });
    try {
      const v = o.version('old-sha1', '0.1.0');
      const slow = await get(`${base}${v.path}`);
      assert.equal(slow.status, 200);
      assert.ok(slow.body.equals(v.tarball));
    } finally {
      o.fault('/old-sha1', undefined);
    }
  });

  void it('max_packument_size: a larger packument is a 502 and is not stored', async () => {
    const base = await cache({ max_packument_size: '600B' });
    const small = await get(`${base}/chain-c`, { accept: CORGI });
    assert.equal(small.status, 200, 'the abbreviated chain-c packument is below 600 bytes');
    const big = await get(`${base}/chain-c`, { accept: 'application/json' });
    assert.equal(big.status, 502);
    assert.match(big.body.toString(), /ERR_UPSTREAM_(TOO_LARGE|BAD_RESPONSE)/);
    assert.equal(await storedPackuments(procs[procs.length - 1]?.dataDir ?? ''), 1);
  });
});
