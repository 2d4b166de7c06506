import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataRoute } from '../../src/core/route.js';
import { readAll, readyRoute, setupCache, until } from './cache-fixtures.js';

const metaRoute = (key: string, body: string, ttlMs = 60_000): MetadataRoute => ({
  kind: 'metadata',
  key,
  ttlMs,
  staleIfErrorMs: 60_000,
  load: () => Promise.resolve({ body: Buffer.from(body), contentType: 'text/plain' }),
});

void describe('memoized answers per namespace', () => {
  void it('a fill, a store, a purge or a forget under file/ leaves tf/ answers and stamps in force; the same under tf/ ends them', async () => {
    const { cache } = await setupCache();
    let builds = 0;
    const compose = (): Promise<number> => cache.derived('tf/mirror-index x', 60_000, () => Promise.resolve({ value: ++builds, cost: 1 }));
    await compose();
    const stamp = cache.derivedStamp('tf/mirror-index x', 60_000);
    assert.ok(stamp && cache.isCurrent(stamp));
    // Changes in another namespace.
    await readAll((await cache.artifact(readyRoute('file/big.iso', Buffer.alloc(100_000, 1)).route, { head: false })).body);
    await until(() => cache.inflight === 0);
    await cache.metadata(metaRoute('file/listing', 'l'));
    await cache.invalidate('file/listing');
    cache.forget('file/big.iso');
    assert.equal(await compose(), 1, 'still the memoized answer');
    assert.equal(cache.isCurrent(stamp), true, 'a prepared answer stamped with it still holds');
    // A change in its own namespace.
    await cache.metadata(metaRoute('tf/providers/x/versions', 'v'));
    assert.equal(cache.isCurrent(stamp), false);
    assert.equal(await compose(), 2);
    await compose();
    assert.equal(builds, 2);
    cache.forget('tf/providers/x/versions');
    assert.equal(await compose(), 3);
    await readAll((await cache.artifact(readyRoute('tf/providers/x/zip', Buffer.alloc(1000, 2)).route, { head: false })).body);
    await until(() => cache.inflight === 0);
    assert.equal(await compose(), 4, 'a tf/ commit ends tf/ answers');
  });

  void it('a stale copy served in another namespace does not keep an answer from being reused', async () => {
    let t = 1_000_000;
    const { cache } = await setupCache({ now: () => t });
    await cache.metadata(metaRoute('file/stale', 's', 1000));
    t += 1500;
    let builds = 0;
    const compose = (): Promise<number> =>
      cache.derived('tf/answer', 60_000, async () => {
        await cache.metadata(metaRoute('file/stale', 's', 1000));
        return { value: ++builds, cost: 1 };
      });
    await compose();
    await until(() => cache.inflight === 0);
    await compose();
    assert.equal(builds, 1, 'the file/ refresh does not concern tf/ answers');
  });
});
