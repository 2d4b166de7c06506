/**
 * Upstream faults under the real `cargo`: a tampered `.crate` is refused
 * (cargo fails, nothing is stored) and the next install succeeds once the
 * fault clears; N parallel cold installs cause one upstream request per
 * file; index files past their freshness are served stale while upstream
 * answers 5xx; a 5xx for an uncached crate fails the install without
 * storing anything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCargoOrigin, type CargoOrigin } from '../../fakes/cargo-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { cargoProject, install, startCargoCache, storedCrates } from './support.js';

let o: CargoOrigin;
let p: RegcacheProcess;

void describe('cargo mode: faults', { timeout: 600_000 }, () => {
  before(async () => {
    o = await startCargoOrigin({ tls: true });
    o.publish('leaf', '1.0.0');
    o.publish('mid', '1.0.0', { deps: [{ name: 'leaf', req: '1' }] });
    o.publish('top', '1.0.0', { deps: [{ name: 'mid', req: '1' }] });
    o.publish('tampered', '0.1.0');
    o.publish('flaky', '0.2.0');
    p = await startCargoCache(o, { index_fresh_for: '1s' });
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('N parallel cold installs: one upstream download per .crate, one full GET per index file', async () => {
    o.fault('/crates/', { kind: 'slow', bytesPerSecond: 400 });
    try {
      const projects = await Promise.all([1, 2, 3, 4].map(() => cargoProject(p, { top: '1' })));
      await Promise.all(projects.map((pr) => install(pr)));
      for (const pr of projects) assert.deepEqual(await pr.locked(), ['leaf@1.0.0', 'mid@1.0.0', 'top@1.0.0']);
    } finally {
      o.fault('/crates/', undefined);
    }
    for (const name of ['leaf', 'mid', 'top']) {
      assert.equal(o.count('dl', o.dlPath(name, '1.0.0')), 1, `${name}: one download for four clients`);
      const full = o.count('index', o.indexPath(name)) - o.conditional(o.indexPath(name)).asked;
      assert.equal(full, 1, `${name}: one full index GET`);
    }
    assert.equal(o.count('index', '/config.json') - o.conditional('/config.json').asked, 1);
  });

  void it('a tampered .crate is refused: cargo fails, nothing is stored; the next install succeeds', async () => {
    o.fault(o.dlPath('tampered', '0.1.0'), { kind: 'corrupt' });
    const bad = await cargoProject(p, { tampered: '0.1' });
    assert.equal((await bad.run('generate-lockfile')).code, 0);
    const fetched = await bad.run('fetch');
    assert.notEqual(fetched.code, 0, 'cargo fetch must fail');
    assert.deepEqual((await storedCrates(p.dataDir)).filter((f) => f.startsWith('tampered/')), []);
    o.fault(o.dlPath('tampered', '0.1.0'), undefined);
    const good = await cargoProject(p, { tampered: '0.1' });
    await install(good);
    assert.deepEqual(await good.locked(), ['tampered@0.1.0']);
    assert.equal(o.count('dl', o.dlPath('tampered', '0.1.0')), 2, 'the refused download was not kept');
    assert.equal((await storedCrates(p.dataDir)).filter((f) => f.startsWith('tampered/')).length, 1);
  });

  void it('5xx for an uncached .crate fails the install, stores nothing, and clears', async () => {
    o.fault(o.dlPath('flaky', '0.2.0'), { kind: 'status', status: 503 });
    const bad = await cargoProject(p, { flaky: '0.2' });
    assert.equal((await bad.run('generate-lockfile')).code, 0);
    assert.notEqual((await bad.run('fetch')).code, 0);
    assert.deepEqual((await storedCrates(p.dataDir)).filter((f) => f.startsWith('flaky/')), []);
    o.fault(o.dlPath('flaky', '0.2.0'), undefined);
    await install(await cargoProject(p, { flaky: '0.2' }));
    assert.equal((await storedCrates(p.dataDir)).filter((f) => f.startsWith('flaky/')).length, 1);
  });

  void it('index past index_fresh_for with upstream answering 500: the stored index is served stale', async () => {
    await new Promise((res) => setTimeout(res, 1100));
    o.fault('/', { kind: 'status', status: 500 });
    const before = o.requests.length;
    try {
      const project = await cargoProject(p, { top: '1' });
      await install(project);
      assert.deepEqual(await project.locked(), ['leaf@1.0.0', 'mid@1.0.0', 'top@1.0.0']);
    } finally {
      o.fault('/', undefined);
    }
    const seen = o.requests.slice(before);
    assert.ok(seen.some((r) => r.status === 500), 'upstream was asked (and failed)');
    assert.ok(seen.every((r) => r.host === 'index'), 'no download was attempted');
  });
});
