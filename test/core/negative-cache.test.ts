import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RegcacheError } from '../../src/core/errors.js';
import type { ArtifactRoute, MetadataRoute } from '../../src/core/route.js';
import { readAll, setupCache } from './cache-fixtures.js';
import { bodyOf, originGet, startCountingOrigin, type CountingOrigin } from './counting-origin.js';

function artifactRoute(origin: CountingOrigin, key: string, path: string, negativeTtlMs?: number): ArtifactRoute {
  return {
    kind: 'artifact',
    key,
    contentType: 'application/octet-stream',
    ...(negativeTtlMs !== undefined ? { negativeTtlMs } : {}),
    async fetch(signal) {
      const res = await originGet(origin.base + path, signal);
      return { body: res, size: Number(res.headers['content-length']) };
    },
    verify() {},
  };
}

function metadataRoute(origin: CountingOrigin, key: string, path: string, negativeTtlMs?: number): MetadataRoute {
  return {
    kind: 'metadata',
    key,
    ttlMs: 60_000,
    staleIfErrorMs: 0,
    ...(negativeTtlMs !== undefined ? { negativeTtlMs } : {}),
    async load(signal) {
      return { body: await bodyOf(await originGet(origin.base + path, signal)), contentType: 'application/json' };
    },
  };
}

const code = (want: string) => (e: RegcacheError) => e.code === want;

void describe('cache: negative caching', () => {
  void it('50 identical artifact misses of a 404 make one upstream call within negativeTtlMs, another after it', async () => {
    let t = 1_000_000;
    const { cache, store } = await setupCache({ now: () => t });
    const origin = await startCountingOrigin();
    const route = artifactRoute(origin, 'neg/zip', '/missing.zip', 30_000);
    for (let i = 0; i < 50; i++) await assert.rejects(cache.artifact(route, { head: false }), code('ERR_UPSTREAM_NOT_FOUND'));
    assert.equal(origin.requests('/missing.zip'), 1);
    assert.equal(await store.stat('neg/zip'), undefined, 'nothing stored');
    t += 30_000;
    await assert.rejects(cache.artifact(route, { head: false }), code('ERR_UPSTREAM_NOT_FOUND'));
    assert.equal(origin.requests('/missing.zip'), 2, 'asked again once the refusal expired');
  });

  void it('50 identical metadata misses of a 401 make one upstream call; the status is kept', async () => {
    const { cache } = await setupCache();
    const origin = await startCountingOrigin();
    origin.docs.set('/private.json', { status: 401 });
    const route = metadataRoute(origin, 'neg/private', '/private.json', 30_000);
    for (let i = 0; i < 50; i++) {
      await assert.rejects(cache.metadata(route), (e: RegcacheError) => e.code === 'ERR_UPSTREAM_UNAUTHORIZED' && e.upstreamStatus === 401);
    }
    assert.equal(origin.requests('/private.json'), 1);
  });

  void it('without negativeTtlMs, or for a transient failure, every miss asks upstream; a purge forgets the refusal', async () => {
    const { cache } = await setupCache();
    const origin = await startCountingOrigin();
    const plain = artifactRoute(origin, 'neg/plain', '/plain.zip');
    for (let i = 0; i < 5; i++) await assert.rejects(cache.artifact(plain, { head: false }), code('ERR_UPSTREAM_NOT_FOUND'));
    assert.equal(origin.requests('/plain.zip'), 5);
    origin.docs.set('/busy.json', { status: 503 });
    const busy = metadataRoute(origin, 'neg/busy', '/busy.json', 30_000);
    for (let i = 0; i < 5; i++) await assert.rejects(cache.metadata(busy), code('ERR_UPSTREAM_STATUS'));
    assert.equal(origin.requests('/busy.json'), 5, 'a 503 is never remembered');
    const gone = artifactRoute(origin, 'neg/gone', '/gone.zip', 30_000);
    await assert.rejects(cache.artifact(gone, { head: false }), code('ERR_UPSTREAM_NOT_FOUND'));
    origin.docs.set('/gone.zip', { body: Buffer.from('back') });
    await assert.rejects(cache.artifact(gone, { head: false }), code('ERR_UPSTREAM_NOT_FOUND'));
    assert.equal(origin.requests('/gone.zip'), 1);
    await cache.invalidate('neg/gone');
    const r = await cache.artifact(gone, { head: false });
    assert.equal(r.result, 'miss');
    assert.equal((await readAll(r.body)).toString(), 'back');
    assert.equal(origin.requests('/gone.zip'), 2);
  });
});
