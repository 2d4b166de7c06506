/**
 * The policies besides the defaults: `crate_policy: bypass` (streamed,
 * checked, never stored), `crate_policy: revalidate` (a stored crate asked
 * again conditionally once `index_fresh_for` passed), and
 * `index_busy_policy` (`stale` serves the stored index while another
 * request refreshes it; `bypass` streams from upstream instead).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCargoOrigin, type CargoOrigin } from '../../fakes/cargo-origin.js';
import { rawRequest } from '../../integration/http-client.js';
import { cargoProject, install, startCargoCache, storedCrates } from './support.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const PLAIN = { server: { tls: false } };
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let o: CargoOrigin;
let streamed: string;

void describe('cargo mode: policies', { timeout: 300_000 }, () => {
  before(async () => {
    o = await startCargoOrigin({ tls: true });
    streamed = o.publish('streamed', '1.0.0').cksum;
    o.publish('renewed', '1.0.0');
    o.publish('busy', '1.0.0');
  });
  after(async () => {
    await o?.close();
  });

  void it('crate_policy bypass: every download goes upstream, checked, nothing stored; wrong bytes are cut', async () => {
    const p = await startCargoCache(o, { crate_policy: 'bypass' }, PLAIN);
    try {
      await install(await cargoProject(p, { streamed: '1' }));
      await install(await cargoProject(p, { streamed: '1' }));
      assert.equal(o.count('dl', o.dlPath('streamed', '1.0.0')), 2);
      assert.deepEqual(await storedCrates(p.dataDir), []);
      o.fault(o.dlPath('streamed', '1.0.0'), { kind: 'corrupt' });
      // A small crate is one held-back chunk: the connection may close before the head is sent.
      const res = await rawRequest(p.url, '/cargo/api/v1/crates/streamed/1.0.0/download').catch((err: Error) => err);
      o.fault(o.dlPath('streamed', '1.0.0'), undefined);
      if (!(res instanceof Error)) {
        assert.equal(res.complete, false, 'the transfer is cut');
        assert.notEqual(sha(res.body), streamed);
      }
      assert.equal(o.count('dl', o.dlPath('streamed', '1.0.0')), 3);
      assert.deepEqual(await storedCrates(p.dataDir), []);
      const good = await rawRequest(p.url, '/cargo/api/v1/crates/streamed/1.0.0/download');
      assert.equal(sha(good.body), streamed);
    } finally {
      await p.stop();
    }
  });

  void it('crate_policy revalidate: past index_fresh_for the stored crate is asked again conditionally (304)', async () => {
    const p = await startCargoCache(o, { crate_policy: 'revalidate', index_fresh_for: '1s' }, PLAIN);
    try {
      const path = '/cargo/api/v1/crates/renewed/1.0.0/download';
      const first = await rawRequest(p.url, path);
      assert.equal(first.status, 200);
      await wait(1100);
      const second = await rawRequest(p.url, path);
      assert.ok(second.body.equals(first.body));
      assert.deepEqual(o.conditional(o.dlPath('renewed', '1.0.0'), 'dl'), { asked: 1, notModified: 1 });
      assert.equal(o.count('dl', o.dlPath('renewed', '1.0.0')), 2);
    } finally {
      await p.stop();
    }
  });

  void it('index_fresh_for 0 (the default): every index request revalidates, a download asks for no index', async () => {
    const p = await startCargoCache(o, { index_fresh_for: 0 }, PLAIN);
    try {
      o.publish('eager', '1.0.0');
      const index = o.indexPath('eager');
      for (let i = 0; i < 2; i++) assert.equal((await rawRequest(p.url, `/cargo${index}`)).status, 200);
      assert.deepEqual(o.conditional(index), { asked: 1, notModified: 1 });
      for (let i = 0; i < 2; i++) assert.equal((await rawRequest(p.url, '/cargo/api/v1/crates/eager/1.0.0/download')).status, 200);
      assert.equal(o.count('index', index), 2, 'the downloads used the stored index');
      assert.equal(o.count('dl', o.dlPath('eager', '1.0.0')), 1);
    } finally {
      await p.stop();
    }
  });

  for (const policy of ['stale', 'bypass'] as const) {
    void it(`index_busy_policy ${policy}: a request arriving while the index is being refreshed`, async () => {
      const p = await startCargoCache(o, { index_fresh_for: '1s', index_busy_policy: policy }, PLAIN);
      try {
        const path = `/cargo${o.indexPath('busy')}`;
        const old = await rawRequest(p.url, path);
        await wait(1100);
        o.publish('busy', policy === 'stale' ? '1.1.0' : '1.2.0');
        const n = o.count('index', o.indexPath('busy'));
        o.fault(o.indexPath('busy'), { kind: 'slow', bytesPerSecond: 200 });
        const refreshing = rawRequest(p.url, path);
        await o.seen('index', o.indexPath('busy'), n + 1);
        const during = await rawRequest(p.url, path);
        o.fault(o.indexPath('busy'), undefined);
        const refreshed = await refreshing;
        if (policy === 'stale') {
          assert.ok(during.body.equals(old.body), 'the stored copy, while the refresh runs');
          assert.equal(o.count('index', o.indexPath('busy')), n + 1, 'one upstream request');
        } else {
          assert.ok(during.body.equals(refreshed.body), 'straight from upstream');
          assert.equal(o.count('index', o.indexPath('busy')), n + 2, 'the busy request went upstream itself');
        }
        assert.ok(refreshed.body.toString().includes(policy === 'stale' ? '"1.1.0"' : '"1.2.0"'));
      } finally {
        await p.stop();
      }
    });
  }
});
