/**
 * The `pypi` mode when upstream misbehaves or changes, with the real pip:
 * tampered files refused (pip fails, nothing stored, the next install
 * works once the fault clears), a new version visible once the index is
 * past `index_fresh_for`, revalidation by 304, an index 5xx answered from
 * the stored copy, and parallel cold installs sharing one download per
 * file.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startPypiOrigin, type PypiOrigin } from '../../fakes/pypi-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { fetchText, installedVersion, pipInstall, startPypiCache, storedObjects } from './support.js';

let origin: PypiOrigin;
let cache: RegcacheProcess;

void describe('pypi mode: faults and changes', { timeout: 300_000 }, () => {
  before(async () => {
    origin = await startPypiOrigin();
    cache = await startPypiCache(origin, { index_fresh_for: '1s' });
  });
  after(async () => {
    await cache?.stop();
    await origin?.close();
  });

  void it('a tampered file is refused: pip fails, nothing is stored, the next install succeeds', async () => {
    const [wheel] = await origin.publish('tampered', '1.0.0');
    assert.ok(wheel);
    origin.fault('files', '/packages/', { kind: 'corrupt' });
    const bad = await pipInstall(cache, ['tampered']);
    assert.notEqual(bad.code, 0, 'pip must fail on the wrong bytes');
    assert.equal(await installedVersion(bad.target, 'tampered'), undefined);
    assert.deepEqual((await storedObjects(cache.dataDir)).filter((s) => s.includes('.whl')), [], 'nothing that failed its check is stored');
    assert.ok(origin.count('files', origin.pathOf(wheel)) >= 1);
    origin.fault('files', '/packages/', undefined);
    const good = await pipInstall(cache, ['tampered']);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(await installedVersion(good.target, 'tampered'), '1.0.0');
    assert.ok((await storedObjects(cache.dataDir)).some((s) => s.includes('tampered-1.0.0-py3-none-any.whl')));
  });

  void it('a new upstream version is installed once the index is past index_fresh_for; an unchanged index is revalidated by 304', async () => {
    await origin.publish('moving', '1.0.0');
    const first = await pipInstall(cache, ['moving']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await installedVersion(first.target, 'moving'), '1.0.0');
    await sleep(1100);
    const before304 = origin.conditional('/simple/moving/');
    const same = await pipInstall(cache, ['moving']);
    assert.equal(same.code, 0, same.stderr);
    const after304 = origin.conditional('/simple/moving/');
    assert.ok(after304.notModified > before304.notModified, `a 304 was counted: ${JSON.stringify(after304)}`);
    await origin.publish('moving', '1.1.0');
    await sleep(1100);
    const next = await pipInstall(cache, ['moving']);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(await installedVersion(next.target, 'moving'), '1.1.0');
  });

  void it('an index answering 5xx past its freshness is served from the stored copy', async () => {
    await origin.publish('flaky', '1.0.0');
    assert.equal((await pipInstall(cache, ['flaky'])).code, 0);
    await sleep(1100);
    origin.fault('index', '/simple/flaky/', { kind: 'status', status: 503 });
    try {
      const asked = origin.count('index', '/simple/flaky/');
      const r = await pipInstall(cache, ['flaky']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await installedVersion(r.target, 'flaky'), '1.0.0');
      assert.ok(origin.count('index', '/simple/flaky/') > asked, 'upstream was asked and failed');
    } finally {
      origin.fault('index', '/simple/flaky/', undefined);
    }
  });

  void it('a file host answering 500 on a cold file fails the install and stores nothing', async () => {
    const [wheel] = await origin.publish('broken-host', '1.0.0');
    assert.ok(wheel);
    origin.fault('files', origin.pathOf(wheel), { kind: 'status', status: 500 });
    try {
      const r = await pipInstall(cache, ['broken-host']);
      assert.notEqual(r.code, 0);
      const got = await fetchText(cache, `/pypi/files/broken-host/${wheel.filename}`);
      assert.equal(got.status, 502);
      assert.match(got.body, /"code":"ERR_UPSTREAM_STATUS"/);
      assert.deepEqual((await storedObjects(cache.dataDir)).filter((s) => s.startsWith('pypi/broken-host/files/')), []);
    } finally {
      origin.fault('files', origin.pathOf(wheel), undefined);
    }
  });

  void it('parallel cold installs download each file once (and read each index in full once)', async () => {
    const dists = [...(await origin.publish('par-top', '1.0.0', ['par-dep'])), ...(await origin.publish('par-dep', '1.0.0'))];
    // Slow answers keep the downloads overlapping.
    origin.fault('files', '/packages/', { kind: 'slow', ms: 400 });
    origin.fault('index', '/simple/par-', { kind: 'slow', ms: 300 });
    try {
      const runs = await Promise.all(Array.from({ length: 4 }, () => pipInstall(cache, ['par-top'])));
      for (const r of runs) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await installedVersion(r.target, 'par_dep'), '1.0.0');
      }
    } finally {
      origin.fault('files', '/packages/', undefined);
      origin.fault('index', '/simple/par-', undefined);
    }
    for (const d of dists.filter((x) => x.filename.endsWith('.whl'))) assert.equal(origin.count('files', origin.pathOf(d)), 1, d.filename);
    // One full read of each index; later asks (this suite's index is fresh for 1 s only) are conditional.
    for (const path of ['/simple/par-top/', '/simple/par-dep/']) {
      assert.equal(origin.requests.filter((q) => q.host === 'index' && q.path === path && q.ifNoneMatch === undefined).length, 1, path);
    }
  });
});
