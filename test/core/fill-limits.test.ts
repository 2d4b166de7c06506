import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCache } from '../../src/core/cache.js';
import type { Coordinator } from '../../src/core/coordinator.js';
import type { RegcacheError } from '../../src/core/errors.js';
import { holdLoop, manualRoute, readAll, setupCache, tick, until } from './cache-fixtures.js';

const get = { head: false } as const;
type Ended = { ok: boolean; code: string | undefined };

/** A cache whose fill outcomes are recorded. */
async function observed(opts: { fillDeadlineMs?: number; abandonedFillMs?: number } = {}) {
  const ends: Ended[] = [];
  const made = await setupCache({ ...opts, observer: { onFillEnd: (_k, o) => ends.push({ ok: o.ok, code: o.error?.code }) } });
  return { ...made, ends };
}

void describe('fills: size cap', () => {
  void it('a body announced larger than maxBytes fails at once with ERR_UPSTREAM_TOO_LARGE; nothing is stored', async () => {
    const { cache, store, ends } = await observed();
    const bytes = Buffer.alloc(2000, 1);
    const { route, state } = manualRoute('l/announced', bytes, { maxBytes: 1999 });
    await assert.rejects(cache.artifact(route, get), (e: RegcacheError) => e.code === 'ERR_UPSTREAM_TOO_LARGE');
    assert.equal(state.source?.destroyed, true, 'the upstream body is dropped');
    assert.deepEqual(ends, [{ ok: false, code: 'ERR_UPSTREAM_TOO_LARGE' }]);
    assert.equal(await store.stat('l/announced'), undefined);
  });

  void it('a body of unknown length streamed beyond maxBytes fails; nothing is stored', async () => {
    const { cache, store, root } = await observed();
    const bytes = Buffer.alloc(500_000, 2);
    const { route, state } = manualRoute('l/streamed', bytes, { maxBytes: 300_000 }, false);
    const reply = cache.artifact(route, get);
    await until(() => state.source !== undefined);
    state.source?.write(bytes.subarray(0, 200_000));
    const r = await reply;
    const reading = readAll(r.body);
    state.source?.write(bytes.subarray(200_000, 400_000));
    await assert.rejects(reading, (e: RegcacheError) => e.code === 'ERR_UPSTREAM_TOO_LARGE');
    await until(() => cache.inflight === 0);
    assert.equal(state.source?.destroyed, true);
    assert.equal(await store.stat('l/streamed'), undefined);
    assert.deepEqual(await readdir(join(root, 'tmp')), [], 'the spooled bytes are gone');
  });

  void it('a body exactly maxBytes long is stored', async () => {
    const { cache, store } = await observed();
    const bytes = Buffer.alloc(3000, 3);
    const { route, state } = manualRoute('l/exact', bytes, { maxBytes: 3000 }, false);
    const reply = cache.artifact(route, get);
    await until(() => state.source !== undefined);
    state.source?.end(bytes);
    assert.ok((await readAll((await reply).body)).equals(bytes));
    await until(() => cache.inflight === 0);
    assert.equal((await store.stat('l/exact'))?.size, 3000);
  });
});

void describe('fills: deadline and abandonment', () => {
  void it('a fill past fillDeadlineMs fails with ERR_UPSTREAM_TIMEOUT and commits nothing', async () => {
    const { cache, store, ends } = await observed({ fillDeadlineMs: 200 });
    const bytes = Buffer.alloc(400_000, 4);
    const { route, state } = manualRoute('l/deadline', bytes);
    const reply = cache.artifact(route, get);
    await until(() => state.source !== undefined);
    // Upstream sends a part and stalls.
    state.source?.write(bytes.subarray(0, 200_000));
    await assert.rejects(
      holdLoop(reply.then((r) => readAll(r.body))),
      (e: RegcacheError) => e.code === 'ERR_UPSTREAM_TIMEOUT',
    );
    await until(() => ends.length === 1);
    assert.deepEqual(ends, [{ ok: false, code: 'ERR_UPSTREAM_TIMEOUT' }]);
    assert.equal(state.source?.destroyed, true);
    assert.equal(await store.stat('l/deadline'), undefined);
  });

  void it('a download of unknown length is abandoned once its only client left', async () => {
    const { cache, store, ends } = await observed({ abandonedFillMs: 100 });
    const bytes = Buffer.alloc(400_000, 5);
    const { route, state } = manualRoute('l/abandoned', bytes, {}, false);
    const reply = cache.artifact(route, get);
    await until(() => state.source !== undefined);
    state.source?.write(bytes.subarray(0, 200_000));
    const r = await reply;
    r.body?.destroy();
    // Upstream keeps sending, never ending.
    for (let i = 0; ends.length === 0 && i < 400; i++) {
      state.source?.write(Buffer.alloc(1000, 5));
      await tick();
    }
    assert.deepEqual(ends, [{ ok: false, code: 'ERR_UPSTREAM_TIMEOUT' }]);
    assert.equal(state.source?.destroyed, true, 'the upstream body is dropped');
    assert.equal(await store.stat('l/abandoned'), undefined);
  });

  void it('a download of unknown length with a client, or of announced length without one, is not abandoned', async () => {
    const { cache, store, ends } = await observed({ abandonedFillMs: 20 });
    const bytes = Buffer.alloc(300_000, 6);
    const followed = manualRoute('l/followed', bytes, {}, false);
    const announced = manualRoute('l/announced-left', bytes);
    const a = cache.artifact(followed.route, get);
    const b = cache.artifact(announced.route, get);
    await until(() => followed.state.source !== undefined && announced.state.source !== undefined);
    followed.state.source?.write(bytes.subarray(0, 100_000));
    announced.state.source?.write(bytes.subarray(0, 100_000));
    const reading = readAll((await a).body);
    (await b).body?.destroy();
    // Several abandonment periods pass while upstream is slow.
    for (let i = 0; i < 20; i++) await tick();
    followed.state.source?.end(bytes.subarray(100_000));
    announced.state.source?.end(bytes.subarray(100_000));
    assert.ok((await reading).equals(bytes));
    await until(() => ends.length === 2);
    assert.deepEqual(ends, [{ ok: true, code: undefined }, { ok: true, code: undefined }]);
    assert.equal((await store.stat('l/announced-left'))?.size, bytes.length);
  });
});

void describe('fills: hold-back per route', () => {
  void it('releases all but route.holdBack bytes while downloading', async () => {
    const { cache } = await observed();
    const bytes = Buffer.alloc(400_000, 7);
    const { route, state } = manualRoute('l/hold-1000', bytes, { holdBack: 1000 });
    const reply = cache.artifact(route, get);
    await until(() => state.source !== undefined);
    state.source?.write(bytes.subarray(0, 300_000));
    const r = await reply;
    let got = 0;
    r.body?.on('data', (c: Buffer) => (got += c.length));
    await until(() => got >= 299_000);
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(got, 299_000);
    state.source?.end(bytes.subarray(300_000));
    await new Promise((res) => r.body?.once('end', res));
    assert.equal(got, bytes.length);
  });

  void it('holdBack Infinity releases nothing before the commit', async () => {
    const { cache } = await observed();
    const bytes = Buffer.alloc(2 * 1024 * 1024, 8);
    const { route, state } = manualRoute('l/hold-all', bytes, { holdBack: Infinity });
    // Announced large: the reply comes as soon as upstream answered, before any byte.
    const reply = cache.artifact(route, get);
    await until(() => state.source !== undefined);
    const r = await reply;
    let got = 0;
    r.body?.on('data', (c: Buffer) => (got += c.length));
    state.source?.write(bytes.subarray(0, bytes.length - 1));
    for (let i = 0; i < 20; i++) await tick();
    assert.equal(got, 0, 'nothing released while unverified');
    state.source?.end(bytes.subarray(bytes.length - 1));
    await new Promise((res) => r.body?.once('end', res));
    assert.equal(got, bytes.length);
  });
});

void describe('fills: coordination when stopped', () => {
  void it('a lease won after the fill was stopped is released at once', async () => {
    let grant: (() => void) | undefined;
    let released = 0;
    const coordinator: Coordinator = {
      // A claim that answers late and ignores the abort, as a slow coordinator might.
      claim: () =>
        new Promise((resolve) => {
          grant = () => resolve({ kind: 'leader', lease: { release: () => Promise.resolve(void released++) } });
        }),
      close: () => Promise.resolve(),
    };
    const coordinated = createCache({ store: (await setupCache()).store, coordinator, fillDeadlineMs: 50 });
    const { route, state } = manualRoute('l/late-lease', Buffer.from('x'));
    await assert.rejects(holdLoop(coordinated.artifact(route, get)), (e: RegcacheError) => e.code === 'ERR_UPSTREAM_TIMEOUT');
    assert.equal(released, 0);
    grant?.();
    await until(() => released === 1);
    assert.equal(state.fetches, 0, 'the stopped fill never went upstream');
    await coordinated.close();
  });
});
