import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { RegcacheError } from '../../src/core/errors.js';
import type { ArtifactRoute, ArtifactSource, Freshness } from '../../src/core/route.js';
import { readAll, setupCache, sha, until } from './cache-fixtures.js';
import { originGet, startCountingOrigin, validatorsOf, type CountingOrigin } from './counting-origin.js';

/** A mutable artifact route over the origin, verified against whatever body the origin holds now. */
function fileRoute(origin: CountingOrigin, key: string, path: string, freshness: Freshness): ArtifactRoute {
  const open = async (signal: AbortSignal, validators?: { etag?: string; lastModified?: string }): Promise<ArtifactSource | 'not-modified'> => {
    const res = await originGet(origin.base + path, signal, validators);
    if (res.statusCode === 304) {
      res.resume();
      return 'not-modified';
    }
    const length = res.headers['content-length'];
    return { body: res, ...(length !== undefined ? { size: Number(length) } : {}), ...validatorsOf(res) };
  };
  return {
    kind: 'artifact',
    key,
    contentType: 'application/octet-stream',
    freshness,
    async fetch(signal) {
      const got = await open(signal);
      if (got === 'not-modified') throw new Error('unconditional request answered 304');
      return got;
    },
    revalidate: (validators, signal) => open(signal, validators),
    verify(s) {
      if (s.sha256 !== sha(origin.docs.get(path)?.body ?? Buffer.alloc(0))) throw new Error('not the origin body');
    },
  };
}

const get = { head: false } as const;

void describe('cache: mutable artifacts', () => {
  void it('serves a fresh copy without asking; past freshForMs a 304 renews it without a body transfer', async () => {
    let t = 1_000_000;
    const seen: boolean[] = [];
    const { cache, store } = await setupCache({ now: () => t, observer: { onRevalidated: (_k, nm) => seen.push(nm) } });
    const origin = await startCountingOrigin();
    const body = Buffer.alloc(200_000, 1);
    origin.docs.set('/f', { body, etag: '"a"' });
    const route = fileRoute(origin, 'file/f', '/f', { freshForMs: 60_000, busy: 'stale' });
    const first = await cache.artifact(route, get);
    assert.equal(first.result, 'miss');
    assert.ok((await readAll(first.body)).equals(body));
    await until(() => cache.inflight === 0);
    assert.equal((await store.stat('file/f'))?.etag, '"a"', 'the source validators are stored');
    t += 59_999;
    const fresh = await cache.artifact(route, get);
    assert.equal(fresh.result, 'hit');
    await readAll(fresh.body);
    assert.equal(origin.requests('/f'), 1);
    t += 1;
    const renewed = await cache.artifact(route, get);
    assert.equal(renewed.result, 'hit');
    assert.ok((await readAll(renewed.body)).equals(body));
    assert.equal(origin.notModified('/f'), 1);
    assert.equal(origin.bytesSent('/f'), body.length, 'the body went over the wire once');
    assert.deepEqual(seen, [true]);
    assert.equal((await store.stat('file/f'))?.storedAt, t);
    t += 30_000;
    await readAll((await cache.artifact(route, get)).body);
    assert.equal(origin.requests('/f'), 2, 'renewed: fresh for another freshForMs');
  });

  void it('a changed upstream body replaces the copy through a verified fill', async () => {
    let t = 1_000_000;
    const seen: boolean[] = [];
    const { cache, store } = await setupCache({ now: () => t, observer: { onRevalidated: (_k, nm) => seen.push(nm) } });
    const origin = await startCountingOrigin();
    origin.docs.set('/c', { body: Buffer.from('version one'), etag: '"1"' });
    const route = fileRoute(origin, 'file/c', '/c', { freshForMs: 1000, busy: 'stale' });
    await readAll((await cache.artifact(route, get)).body);
    origin.docs.set('/c', { body: Buffer.from('version two!'), etag: '"2"' });
    t += 1000;
    const r = await cache.artifact(route, get);
    assert.equal(r.result, 'miss');
    assert.equal((await readAll(r.body)).toString(), 'version two!');
    await until(() => cache.inflight === 0);
    assert.deepEqual(seen, [false]);
    const got = await store.read('file/c');
    assert.equal(got?.body.toString(), 'version two!');
    assert.equal(got?.meta.etag, '"2"');
  });

  void it('upstream failing during revalidation: the stored copy is served stale, reported once, retried after a second', async () => {
    let t = 1_000_000;
    const reported: string[] = [];
    const { cache } = await setupCache({ now: () => t, observer: { onBackgroundError: (k, e, what) => reported.push(`${k} ${what} ${e.code}`) } });
    const origin = await startCountingOrigin();
    const body = Buffer.from('still good');
    origin.docs.set('/e', { body, etag: '"e"' });
    const route = fileRoute(origin, 'file/e', '/e', { freshForMs: 1000, busy: 'stale' });
    await readAll((await cache.artifact(route, get)).body);
    origin.docs.set('/e', { status: 503 });
    t += 5000;
    const stale = await cache.artifact(route, get);
    assert.equal(stale.result, 'stale');
    assert.ok((await readAll(stale.body)).equals(body));
    await until(() => cache.inflight === 0);
    assert.deepEqual(reported, ['file/e refresh ERR_UPSTREAM_STATUS']);
    assert.equal(origin.requests('/e'), 2);
    for (let i = 0; i < 3; i++) assert.equal((await cache.artifact(route, { head: true })).result, 'stale');
    assert.equal(origin.requests('/e'), 2, 'no new attempt within a second of the failure');
    t += 1000;
    assert.equal((await cache.artifact(route, { head: true })).result, 'stale');
    assert.equal(origin.requests('/e'), 3, 'retried once the second passed');
  });

  void it('an authoritative 404 during revalidation is passed on, not hidden behind the stale copy', async () => {
    let t = 1_000_000;
    const { cache } = await setupCache({ now: () => t });
    const origin = await startCountingOrigin();
    origin.docs.set('/g', { body: Buffer.from('gone soon'), etag: '"g"' });
    const route = fileRoute(origin, 'file/g', '/g', { freshForMs: 1000, busy: 'stale' });
    await readAll((await cache.artifact(route, get)).body);
    origin.docs.delete('/g');
    t += 1000;
    await assert.rejects(cache.artifact(route, get), (e: RegcacheError) => e.code === 'ERR_UPSTREAM_NOT_FOUND');
  });
});

/** A mutable route whose revalidations the test answers by hand. */
function heldRoute(key: string, busy: Freshness['busy'], bytes: Buffer) {
  const state = { fetches: 0, revalidations: 0, answer: undefined as ((a: 'not-modified' | ArtifactSource) => void) | undefined, source: undefined as PassThrough | undefined };
  const route: ArtifactRoute = {
    kind: 'artifact',
    key,
    contentType: 'application/octet-stream',
    freshness: { freshForMs: 1000, busy },
    fetch() {
      state.fetches++;
      const body = new PassThrough();
      state.source = body;
      return Promise.resolve({ body, size: bytes.length, etag: `"${state.fetches}"` });
    },
    revalidate() {
      state.revalidations++;
      return new Promise((resolve) => (state.answer = resolve));
    },
    verify(s) {
      if (s.sha256 !== sha(bytes)) throw new Error('bad bytes');
    },
  };
  return { route, state };
}

void describe('cache: mutable artifacts while busy', () => {
  void it("busy 'stale': while one request revalidates, the others get the stored copy; one revalidation", async () => {
    let t = 1_000_000;
    const { cache } = await setupCache({ now: () => t });
    const bytes = Buffer.alloc(100_000, 4);
    const { route, state } = heldRoute('file/s', 'stale', bytes);
    const cold = cache.artifact(route, get);
    await until(() => state.source !== undefined);
    state.source?.end(bytes);
    await readAll((await cold).body);
    await until(() => cache.inflight === 0);
    t += 1000;
    const first = cache.artifact(route, get);
    await until(() => state.answer !== undefined);
    const others = await Promise.all(Array.from({ length: 5 }, () => cache.artifact(route, get)));
    for (const o of others) {
      assert.equal(o.result, 'stale');
      assert.ok((await readAll(o.body)).equals(bytes));
    }
    state.answer?.('not-modified');
    assert.equal((await first).result, 'hit');
    await readAll((await first).body);
    assert.equal(state.revalidations, 1);
    assert.equal(state.fetches, 1);
  });

  void it("busy 'stale' without a stored copy: concurrent cold requests join the one download", async () => {
    const { cache } = await setupCache();
    const bytes = Buffer.alloc(100_000, 5);
    const { route, state } = heldRoute('file/cold', 'stale', bytes);
    const replies = Array.from({ length: 4 }, () => cache.artifact(route, get));
    await until(() => state.source !== undefined);
    state.source?.end(bytes);
    for (const r of await Promise.all(replies)) {
      assert.equal(r.result, 'miss');
      assert.ok((await readAll(r.body)).equals(bytes));
    }
    assert.equal(state.fetches, 1);
  });

  void it("busy 'bypass': a request arriving during a fill streams its own upstream body, verified, and stores nothing", async () => {
    const { cache, store } = await setupCache();
    const bytes = Buffer.alloc(300_000, 6);
    const { route, state } = heldRoute('file/b', 'bypass', bytes);
    const filling = cache.artifact(route, get);
    await until(() => state.fetches === 1);
    const fillSource = state.source;
    const bypassed = cache.artifact(route, get);
    await until(() => state.fetches === 2);
    const ownSource = state.source;
    assert.notEqual(ownSource, fillSource);
    ownSource?.end(bytes);
    const b = await bypassed;
    assert.equal(b.result, 'bypass');
    assert.ok((await readAll(b.body)).equals(bytes));
    assert.equal(await store.stat('file/b'), undefined, 'the bypass stored nothing');
    fillSource?.end(bytes);
    assert.ok((await readAll((await filling).body)).equals(bytes));
    await until(() => cache.inflight === 0);
    assert.equal((await store.stat('file/b'))?.etag, '"1"', "the fill's copy is the one stored");
  });

  void it("busy 'bypass': a bypassed body that fails verification never ends cleanly and withholds its tail", async () => {
    const { cache } = await setupCache();
    const bytes = Buffer.alloc(300_000, 7);
    const { route, state } = heldRoute('file/bv', 'bypass', bytes);
    const filling = cache.artifact(route, get);
    await until(() => state.fetches === 1);
    const fillSource = state.source;
    const bypassed = cache.artifact(route, get);
    await until(() => state.fetches === 2);
    const wrong = Buffer.alloc(bytes.length, 8);
    state.source?.end(wrong);
    const b = await bypassed;
    let got = 0;
    b.body?.on('data', (c: Buffer) => (got += c.length));
    await assert.rejects(readAll(b.body));
    assert.ok(got <= bytes.length - 64 * 1024, `the last 64 KiB were withheld (${got})`);
    fillSource?.end(bytes);
    await readAll((await filling).body);
  });
});
