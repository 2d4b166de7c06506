import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataRoute } from '../../src/core/route.js';
import { readAll, readyRoute, setupCache, until } from './cache-fixtures.js';

void describe('cache: expireAfterMs', () => {
  void it('an artifact copy past expiresAt is fetched again whole; the new commit records a new expiresAt', async () => {
    let t = 1_000_000;
    const { cache, store } = await setupCache({ now: () => t });
    const bytes = Buffer.from('expiring artifact');
    const { route, state } = readyRoute('x/art', bytes, { expireAfterMs: 10_000 });
    await readAll((await cache.artifact(route, { head: false })).body);
    await until(() => cache.inflight === 0);
    assert.equal((await store.stat('x/art'))?.expiresAt, t + 10_000);
    t += 9_999;
    assert.equal((await cache.artifact(route, { head: true })).result, 'hit');
    assert.equal(state.fetches, 1);
    t += 1;
    const again = await cache.artifact(route, { head: false });
    assert.equal(again.result, 'miss', 'treated as missing');
    assert.ok((await readAll(again.body)).equals(bytes));
    assert.equal(state.fetches, 2);
    await until(() => cache.inflight === 0);
    assert.equal((await store.stat('x/art'))?.expiresAt, t + 10_000);
  });

  void it('a renewal extends expiresAt too', async () => {
    let t = 1_000_000;
    const { cache, store } = await setupCache({ now: () => t });
    const bytes = Buffer.from('renewed and extended');
    const { route } = readyRoute('x/renew', bytes, {
      expireAfterMs: 50_000,
      freshness: { freshForMs: 1000, busy: 'stale' },
      revalidate: () => Promise.resolve('not-modified' as const),
    });
    await readAll((await cache.artifact(route, { head: false })).body);
    await until(() => cache.inflight === 0);
    t += 2000;
    assert.equal((await cache.artifact(route, { head: true })).result, 'hit');
    assert.equal((await store.stat('x/renew'))?.expiresAt, t + 50_000);
  });

  void it('a metadata copy past expiresAt is loaded again, unconditionally, even within its ttl', async () => {
    let t = 1_000_000;
    const { cache, store } = await setupCache({ now: () => t });
    const calls: Array<string | undefined> = [];
    const route: MetadataRoute = {
      kind: 'metadata',
      key: 'x/meta',
      ttlMs: 3_600_000,
      staleIfErrorMs: 0,
      expireAfterMs: 5000,
      load(_signal, validators) {
        calls.push(validators?.etag);
        return Promise.resolve({ body: Buffer.from(`v${calls.length}`), contentType: 'text/plain', etag: `"${calls.length}"` });
      },
    };
    await cache.metadata(route);
    assert.equal((await store.stat('x/meta'))?.expiresAt, t + 5000);
    t += 5000;
    assert.equal(await cache.cached('x/meta'), undefined, 'an expired copy is not handed out');
    const r = await cache.metadata(route);
    assert.equal(r.result, 'miss');
    assert.equal(r.body.toString(), 'v2');
    assert.deepEqual(calls, [undefined, undefined], 'no validators: the expired copy is treated as missing');
  });
});
