import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataRoute } from '../../src/core/route.js';
import { readAll, readyRoute, setupCache } from './cache-fixtures.js';

const metaRoute = (key: string, extra: Partial<MetadataRoute> = {}): MetadataRoute => ({
  kind: 'metadata',
  key,
  ttlMs: 60_000,
  staleIfErrorMs: 0,
  load: () => Promise.resolve({ body: Buffer.from('{}'), contentType: 'application/json' }),
  ...extra,
});

void describe('cache: object classes', () => {
  void it('records artifact and metadata by default, and a route\'s own class when it names one', async () => {
    const { cache, store } = await setupCache();
    await readAll((await cache.artifact(readyRoute('c/zip', Buffer.from('zip')).route, { head: false })).body);
    await readAll((await cache.artifact(readyRoute('c/marked', Buffer.from('m'), { class: 'marker' }).route, { head: false })).body);
    await cache.metadata(metaRoute('c/index'));
    await cache.metadata(metaRoute('c/private', { class: 'marker' }));
    assert.equal((await store.stat('c/zip'))?.class, 'artifact');
    assert.equal((await store.stat('c/marked'))?.class, 'marker');
    assert.equal((await store.stat('c/index'))?.class, 'metadata');
    assert.equal((await store.stat('c/private'))?.class, 'marker');
  });
});
