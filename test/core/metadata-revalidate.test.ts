import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCache } from '../../src/core/cache.js';
import type { MetadataRoute } from '../../src/core/route.js';
import { setupCache, until } from './cache-fixtures.js';
import { bodyOf, originGet, startCountingOrigin, validatorsOf, type CountingOrigin } from './counting-origin.js';

/** A metadata route loading `path` from the origin, conditionally when given validators. */
function originRoute(origin: CountingOrigin, key: string, path: string, ttlMs = 1000, staleIfErrorMs = 10_000): MetadataRoute {
  return {
    kind: 'metadata',
    key,
    ttlMs,
    staleIfErrorMs,
    async load(signal, validators) {
      const res = await originGet(origin.base + path, signal, validators);
      if (res.statusCode === 304) {
        res.resume();
        return 'not-modified';
      }
      return { body: await bodyOf(res), contentType: 'application/json', ...validatorsOf(res) };
    },
  };
}

void describe('cache: metadata revalidation', () => {
  void it('a stale copy with an ETag is revalidated: a 304 renews it in the store without a body transfer', async () => {
    let t = 1_000_000;
    const seen: Array<[string, boolean]> = [];
    const { cache, store } = await setupCache({ now: () => t, observer: { onRevalidated: (key, nm) => seen.push([key, nm]) } });
    const origin = await startCountingOrigin();
    origin.docs.set('/doc', { body: Buffer.from('{"v":1}'), etag: '"v1"' });
    const route = originRoute(origin, 'm/doc', '/doc');
    assert.equal((await cache.metadata(route)).result, 'miss');
    assert.equal((await store.stat('m/doc'))?.etag, '"v1"', 'the validator is stored with the copy');
    t += 1500;
    const stale = await cache.metadata(route);
    assert.equal(stale.result, 'stale');
    await until(() => cache.inflight === 0 && seen.length === 1);
    assert.deepEqual(seen, [['m/doc', true]]);
    assert.equal(origin.requests('/doc'), 2);
    assert.equal(origin.notModified('/doc'), 1);
    assert.equal(origin.bytesSent('/doc'), 7, 'the body went over the wire once');
    const meta = await store.stat('m/doc');
    assert.equal(meta?.storedAt, t, 'renewed: a new lifetime starts now');
    assert.equal(meta?.etag, '"v1"');
    const hit = await cache.metadata(route);
    assert.equal(hit.result, 'hit');
    assert.equal(hit.body.toString(), '{"v":1}');
    assert.equal(origin.requests('/doc'), 2, 'fresh again: no upstream call');
  });

  void it('a changed document replaces the copy and is counted as modified', async () => {
    let t = 1_000_000;
    const seen: boolean[] = [];
    const { cache, store } = await setupCache({ now: () => t, observer: { onRevalidated: (_k, nm) => seen.push(nm) } });
    const origin = await startCountingOrigin();
    origin.docs.set('/lm', { body: Buffer.from('old'), lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT' });
    const route = originRoute(origin, 'm/lm', '/lm');
    await cache.metadata(route);
    origin.docs.set('/lm', { body: Buffer.from('new'), lastModified: 'Tue, 02 Jan 2024 00:00:00 GMT' });
    t += 1500;
    await cache.metadata(route);
    await until(() => cache.inflight === 0 && seen.length === 1);
    assert.deepEqual(seen, [false]);
    const got = await store.read('m/lm');
    assert.equal(got?.body.toString(), 'new');
    assert.equal(got?.meta.lastModified, 'Tue, 02 Jan 2024 00:00:00 GMT');
  });

  void it('a copy past staleIfError is revalidated synchronously and, confirmed, served as a hit; validators survive a restart', async () => {
    let t = 1_000_000;
    const { store } = await setupCache();
    const origin = await startCountingOrigin();
    origin.docs.set('/old', { body: Buffer.from('kept'), etag: 'W/"k"' });
    const first = createCache({ store, now: () => t });
    await first.metadata(originRoute(origin, 'm/old', '/old'));
    await first.close();
    t += 60_000;
    const second = createCache({ store, now: () => t });
    const r = await second.metadata(originRoute(origin, 'm/old', '/old'));
    assert.equal(r.result, 'hit');
    assert.equal(r.body.toString(), 'kept');
    assert.equal(origin.notModified('/old'), 1, 'the restarted process sent the stored ETag');
    assert.equal((await store.stat('m/old'))?.storedAt, t);
    await second.close();
  });
});
