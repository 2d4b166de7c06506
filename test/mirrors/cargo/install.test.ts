/**
 * The real `cargo` through regcache over TLS against a TLS sparse
 * registry whose downloads live on a separate host: a cold install of a
 * dependency chain, a warm one with no upstream artifact request, one with
 * the upstream down, a new version appearing after `index_fresh_for`, and
 * revalidation answered 304.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCargoOrigin, type CargoOrigin } from '../../fakes/cargo-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { cachedCrates, cargoProject, crateDownloads, install, startCargoCache, storedCrates } from './support.js';

let o: CargoOrigin;
let p: RegcacheProcess;

const CHAIN = ['alpha@1.0.0', 'beta@2.1.0', 'gamma@0.3.1'];

void describe('cargo mode: installs with the real cargo over TLS', { timeout: 600_000 }, () => {
  before(async () => {
    o = await startCargoOrigin({ tls: true });
    o.publish('gamma', '0.3.1');
    o.publish('beta', '2.1.0', { deps: [{ name: 'gamma', req: '^0.3' }] });
    o.publish('alpha', '1.0.0', { deps: [{ name: 'beta', req: '^2' }] });
    p = await startCargoCache(o);
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('cold install: the chain is resolved and fetched, each .crate downloaded once from the dl host', async () => {
    assert.ok(p.url.startsWith('https://'));
    const project = await cargoProject(p, { alpha: '1' });
    await install(project);
    assert.deepEqual(await project.locked(), CHAIN);
    assert.deepEqual(await cachedCrates(project.home), ['alpha-1.0.0.crate', 'beta-2.1.0.crate', 'gamma-0.3.1.crate']);
    for (const [name, vers] of [['alpha', '1.0.0'], ['beta', '2.1.0'], ['gamma', '0.3.1']] as const) {
      assert.equal(o.count('dl', o.dlPath(name, vers)), 1, `${name} downloaded once`);
      assert.equal(o.requests.filter((r) => r.path === o.dlPath(name, vers) && r.host === 'index').length, 0, 'downloads go to the host dl names');
    }
    assert.equal((await storedCrates(p.dataDir)).length, 3);
  });

  void it('warm install (fresh CARGO_HOME): no upstream artifact request, no index request within index_fresh_for', async () => {
    const before = o.requests.length;
    const project = await cargoProject(p, { alpha: '1' });
    await install(project);
    assert.deepEqual(await project.locked(), CHAIN);
    assert.deepEqual(o.requests.slice(before).map((r) => `${r.host} ${r.path}`), []);
  });

  void it('upstream down: a fresh install is served from the cache', async () => {
    await o.down();
    try {
      const project = await cargoProject(p, { alpha: '1' });
      await install(project);
      assert.deepEqual(await project.locked(), CHAIN);
      assert.equal(crateDownloads(o), 3);
    } finally {
      await o.up();
    }
  });
});

void describe('cargo mode: freshness and revalidation', { timeout: 600_000 }, () => {
  let q: RegcacheProcess;
  let r: CargoOrigin;
  before(async () => {
    r = await startCargoOrigin({ tls: true });
    r.publish('delta', '1.0.0');
    q = await startCargoCache(r, { index_fresh_for: '1s' });
  });
  after(async () => {
    await q?.stop();
    await r?.close();
  });

  void it('unchanged index past index_fresh_for: asked conditionally, answered 304, same lock file', async () => {
    await install(await cargoProject(q, { delta: '1' }));
    await new Promise((res) => setTimeout(res, 1100));
    const project = await cargoProject(q, { delta: '1' });
    await install(project);
    assert.deepEqual(await project.locked(), ['delta@1.0.0']);
    const c = r.conditional(r.indexPath('delta'));
    assert.ok(c.asked >= 1 && c.notModified === c.asked, JSON.stringify(c));
    assert.equal(r.count('index', r.indexPath('delta')), 1 + c.asked, 'one full GET, the rest conditional');
    assert.equal(r.count('dl', r.dlPath('delta', '1.0.0')), 1);
  });

  void it('a new upstream version is resolved once index_fresh_for has passed', async () => {
    r.publish('delta', '1.1.0');
    await new Promise((res) => setTimeout(res, 1100));
    const project = await cargoProject(q, { delta: '1' });
    await install(project);
    assert.deepEqual(await project.locked(), ['delta@1.1.0']);
    assert.equal(r.count('dl', r.dlPath('delta', '1.1.0')), 1);
  });
});
