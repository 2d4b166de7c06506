import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createCache, type Cache } from '../../src/core/cache.js';
import { RegcacheError } from '../../src/core/errors.js';
import { HOLDBACK, STREAM_EARLY } from '../../src/core/fill.js';
import type { ArtifactRoute, MetadataRoute } from '../../src/core/route.js';
import { createFsStore } from '../../src/storage/fs/fs-store.js';
import { lendsChunks, type Store } from '../../src/core/store.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function setup(now?: () => number): Promise<{ store: Store; cache: Cache; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'regcache-core-'));
  roots.push(root);
  const store = createFsStore({ root });
  await store.init();
  return { store, cache: createCache({ store, ...(now ? { now } : {}) }), root };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function readAll(s: Readable | undefined): Promise<Buffer> {
  assert.ok(s);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** An artifact route whose upstream body the test writes by hand. */
function manualRoute(key: string, expected: Buffer, announce = true) {
  const state = { fetches: 0, source: undefined as PassThrough | undefined, fetched: undefined as Promise<void> | undefined };
  let signalFetched!: () => void;
  state.fetched = new Promise((r) => (signalFetched = r));
  const route: ArtifactRoute = {
    kind: 'artifact',
    key,
    contentType: 'application/zip',
    fetch() {
      state.fetches++;
      const body = new PassThrough();
      state.source = body;
      signalFetched();
      return Promise.resolve(announce ? { body, size: expected.length } : { body });
    },
    verify(s) {
      if (s.sha256 !== sha(expected)) throw new RegcacheError('ERR_INTEGRITY_MISMATCH');
    },
  };
  return { route, state };
}

/** A manual route for `key` whose artifact was filled (cold GET read to the end) and is now cached. */
async function cachedRoute(cache: Cache, key: string, bytes: Buffer): Promise<ReturnType<typeof manualRoute>> {
  const m = manualRoute(key, bytes);
  const p = cache.artifact(m.route, { head: false });
  await m.state.fetched;
  m.state.source?.end(bytes);
  await readAll((await p).body);
  return m;
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

void describe('cache: artifacts', () => {
  void it('collapses concurrent cold requests into one fetch and serves identical bytes to all', async () => {
    const { cache, store } = await setup();
    const bytes = Buffer.alloc(300_000, 7);
    const { route, state } = manualRoute('a/one', bytes);
    const replies = Promise.all(Array.from({ length: 10 }, () => cache.artifact(route, { head: false })));
    await state.fetched;
    state.source?.end(bytes);
    const bodies = await Promise.all((await replies).map((r) => readAll(r.body)));
    assert.equal(state.fetches, 1);
    for (const b of bodies) assert.ok(b.equals(bytes));
    assert.equal((await store.stat('a/one'))?.sha256, sha(bytes));
    const hit = await cache.artifact(route, { head: false });
    assert.equal(hit.result, 'hit');
    assert.ok((await readAll(hit.body)).equals(bytes));
    assert.equal(state.fetches, 1, 'a hit makes no upstream fetch');
  });

  void it('answers a large cold artifact as soon as upstream answered; a small one only once bytes are released', async () => {
    const { cache } = await setup();
    const big = Buffer.alloc(STREAM_EARLY, 5);
    const small = Buffer.alloc(STREAM_EARLY - 1, 6);
    const b = manualRoute('a/early-big', big);
    const s = manualRoute('a/early-small', small);
    let smallReady = false;
    const bigReply = cache.artifact(b.route, { head: false });
    const smallReply = cache.artifact(s.route, { head: false }).then((r) => {
      smallReady = true;
      return r;
    });
    await Promise.all([b.state.fetched, s.state.fetched]);
    // Upstream headers only: no byte of either body has arrived.
    const early = await bigReply;
    assert.equal(early.size, big.length);
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(smallReady, false, 'the small artifact waits for released bytes');
    b.state.source?.end(big);
    s.state.source?.end(small);
    assert.ok((await readAll(early.body)).equals(big));
    assert.ok((await readAll((await smallReply).body)).equals(small));
  });

  void it('followers behind the head share each block read back from the pending object', async () => {
    const root = await mkdtemp(join(tmpdir(), 'regcache-core-'));
    roots.push(root);
    const fs = createFsStore({ root });
    await fs.init();
    let readAts = 0;
    const store: Store = {
      ...fs,
      async create(key) {
        const p = await fs.create(key);
        return {
          get written() {
            return p.written;
          },
          append: (c) => p.append(c),
          // Drops `into` on purpose: the fill must cope with a backend that returns its own buffer.
          readAt: (pos, len) => {
            readAts++;
            return p.readAt(pos, len);
          },
          commit: (m) => p.commit(m),
          abort: () => p.abort(),
          dispose: () => p.dispose(),
        };
      },
    };
    const cache = createCache({ store });
    const bytes = randomBytes(8 * 1024 * 1024);
    const { route, state } = manualRoute('a/shared', bytes);
    const replies = Array.from({ length: 6 }, () => cache.artifact(route, { head: false }));
    await state.fetched;
    state.source?.write(bytes.subarray(0, 65536 * 2));
    const bodies = await Promise.all(replies.map(async (r) => (await r).body));
    for (const b of bodies) b?.pause();
    // The whole download lands while nobody reads: everyone is then far behind the 4 MiB window.
    for (let off = 65536 * 2; off < bytes.length; off += 65536) {
      state.source?.write(bytes.subarray(off, off + 65536));
      await new Promise((r) => setImmediate(r));
    }
    state.source?.end();
    // Wait until the fill has consumed everything and committed: only then is everyone behind the window.
    for (let i = 0; i < 200 && (await fs.stat('a/shared')) === undefined; i++) await tick();
    const all = await Promise.all(bodies.map((b) => readAll(b)));
    for (const got of all) assert.ok(got.equals(bytes));
    const behindBlocks = (bytes.length - 4 * 1024 * 1024) / (256 * 1024);
    assert.ok(readAts >= behindBlocks, `the blocks behind the window were read back (${readAts})`);
    assert.ok(readAts < behindBlocks * 2, `each block read about once for 6 followers, not 6 times (${readAts})`);
  });

  void it('followers that hand chunks back after a delay never see a block reused under them, and blocks are reused', async () => {
    const { cache, store: plain } = await setup();
    const bytes = randomBytes(10 * 1024 * 1024);
    const { route, state } = manualRoute('a/lend', bytes);
    const replies = Array.from({ length: 6 }, () => cache.artifact(route, { head: false }));
    await state.fetched;
    state.source?.write(bytes.subarray(0, 65536 * 2));
    const bodies = (await Promise.all(replies)).map((r) => r.body);
    const seen = new Set<ArrayBufferLike>();
    let reused = 0;
    // Like the HTTP layer: each chunk is "written" later, checked, then handed back. A fast
    // follower hands back after one turn, a late one starts only once the download is
    // committed (reading shared blocks back from the file) and hands back after three turns,
    // and a hoarder hands back only after the whole body arrived, long after its blocks left the window.
    type Pace = 'fast' | 'late' | 'hoard';
    const consume = (body: Readable | undefined, pace: Pace): Promise<number> =>
      new Promise((resolve, reject) => {
        assert.ok(body && lendsChunks(body), 'fill followers lend their chunks');
        let pos = 0;
        let inFlight = 0;
        let ended = false;
        const held: Array<[Buffer, number]> = [];
        const check = (chunk: Buffer, at: number): void => {
          if (!chunk.equals(bytes.subarray(at, at + chunk.length))) reject(new Error(`${pace}: bytes at ${at} changed before they were handed back`));
          body.releaseChunk(chunk);
        };
        body.on('data', (chunk: Buffer) => {
          const at = pos;
          pos += chunk.length;
          if (seen.has(chunk.buffer)) reused++;
          seen.add(chunk.buffer);
          if (pace === 'hoard') {
            held.push([chunk, at]);
            return;
          }
          inFlight++;
          if (inFlight > 2) body.pause();
          const later = (n: number): void => {
            if (n > 0) {
              setImmediate(() => later(n - 1));
              return;
            }
            check(chunk, at);
            inFlight--;
            body.resume();
            if (ended && inFlight === 0) resolve(pos);
          };
          later(pace === 'late' ? 3 : 1);
        });
        body.once('end', () => {
          ended = true;
          for (const [chunk, at] of held) check(chunk, at);
          if (inFlight === 0) resolve(pos);
        });
        body.once('error', reject);
      });
    const paces: Pace[] = ['fast', 'late', 'hoard', 'fast', 'late', 'hoard'];
    bodies.forEach((b, i) => {
      if (paces[i] === 'late') b?.pause();
    });
    const done = bodies.map((b, i) => consume(b, paces[i] ?? 'fast'));
    for (let off = 65536 * 2; off < bytes.length; off += 65536) {
      state.source?.write(bytes.subarray(off, off + 65536));
      await new Promise((r) => setImmediate(r));
    }
    state.source?.end();
    for (let i = 0; i < 200 && (await plain.stat('a/lend')) === undefined; i++) await tick();
    bodies.forEach((b, i) => {
      if (paces[i] === 'late') b?.resume();
    });
    for (const n of await Promise.all(done)) assert.equal(n, bytes.length);
    assert.ok(reused > 0, `block memory was reused (${reused} chunks in a reused buffer)`);
  });

  void it('afterCommit runs at commit, afterServed only once every client of the download is done', async () => {
    const { cache, store: plain } = await setup();
    const bytes = randomBytes(2 * 1024 * 1024);
    const { route, state } = manualRoute('a/served', bytes);
    const calls: string[] = [];
    route.afterCommit = () => {
      calls.push('commit');
      return Promise.resolve();
    };
    route.afterServed = () => {
      calls.push('served');
      return Promise.resolve();
    };
    const fast = cache.artifact(route, { head: false });
    const slow = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.end(bytes);
    assert.ok((await readAll((await fast).body)).equals(bytes));
    const slowBody = (await slow).body;
    slowBody?.pause();
    for (let i = 0; i < 200 && (await plain.stat('a/served')) === undefined; i++) await tick();
    for (let i = 0; i < 20 && calls.length === 0; i++) await tick();
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(calls, ['commit'], 'a client is still reading: the heavy work waits');
    assert.ok((await readAll(slowBody)).equals(bytes));
    for (let i = 0; i < 50 && calls.length < 2; i++) await tick();
    assert.deepEqual(calls, ['commit', 'served']);
  });

  void it('a failing afterCommit or afterServed is reported, and the committed artifact is still served', async () => {
    const root = await mkdtemp(join(tmpdir(), 'regcache-core-'));
    roots.push(root);
    const plain = createFsStore({ root });
    await plain.init();
    const reported: string[] = [];
    const cache = createCache({
      store: plain,
      observer: { onBackgroundError: (key, err, what) => reported.push(`${key} ${what} ${err.code}`) },
    });
    const bytes = randomBytes(100_000);
    const { route, state } = manualRoute('a/hooks-fail', bytes);
    route.afterCommit = () => Promise.reject(new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'commit hook'));
    route.afterServed = () => Promise.reject(new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'served hook'));
    const reply = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.end(bytes);
    assert.ok((await readAll((await reply).body)).equals(bytes));
    for (let i = 0; i < 50 && reported.length < 2; i++) await tick();
    assert.deepEqual(reported, ['a/hooks-fail after-commit ERR_UPSTREAM_BAD_RESPONSE', 'a/hooks-fail after-commit ERR_STORAGE_UNAVAILABLE']);
    const again = await cache.artifact(route, { head: false });
    assert.equal(again.result, 'hit');
    assert.ok((await readAll(again.body)).equals(bytes));
  });

  void it('streams released bytes before the download ends but withholds the tail until verified', async () => {
    const { cache } = await setup();
    const bytes = Buffer.alloc(400_000, 3);
    const { route, state } = manualRoute('a/stream', bytes);
    const pending = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.write(bytes.subarray(0, 300_000));
    const reply = await pending;
    assert.equal(reply.result, 'miss');
    assert.equal(reply.size, bytes.length);
    let got = 0;
    reply.body?.on('data', (c: Buffer) => (got += c.length));
    for (let i = 0; i < 50 && got < 300_000 - HOLDBACK; i++) await tick();
    assert.equal(got, 300_000 - HOLDBACK, 'released exactly what was written minus the holdback');
    state.source?.end(bytes.subarray(300_000));
    await new Promise((r) => reply.body?.once('end', r));
    assert.equal(got, bytes.length);
  });

  void it('a follower that fell far behind the head reads the spool file and still gets every byte', async () => {
    const { cache } = await setup();
    const bytes = randomBytes(12 * 1024 * 1024);
    const { route, state } = manualRoute('a/behind', bytes);
    const fast = cache.artifact(route, { head: false });
    const slow = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.write(bytes.subarray(0, 65536 * 2));
    const fastBody = fast.then((r) => readAll(r.body));
    const slowReply = await slow;
    // The slow follower reads nothing while the rest of the download arrives in 64 KiB pieces.
    slowReply.body?.pause();
    for (let off = 65536 * 2; off < bytes.length; off += 65536) {
      state.source?.write(bytes.subarray(off, off + 65536));
      await new Promise((r) => setImmediate(r));
    }
    state.source?.end();
    assert.ok((await fastBody).equals(bytes), 'the follower at the head got every byte');
    assert.ok((await readAll(slowReply.body)).equals(bytes), 'the follower behind the window got every byte');
    assert.equal(state.fetches, 1);
  });

  void it('on a verification failure aborts every waiter and commits nothing', async () => {
    const { cache, store, root } = await setup();
    const expected = Buffer.alloc(200_000, 1);
    const { route, state } = manualRoute('a/bad', expected);
    const pending = Array.from({ length: 3 }, () => cache.artifact(route, { head: false }));
    await state.fetched;
    state.source?.end(Buffer.alloc(200_000, 2));
    for (const p of pending) {
      const outcome = await p.then(
        (r) => readAll(r.body).then(() => 'completed', (e: RegcacheError) => e.code),
        (e: RegcacheError) => e.code,
      );
      assert.equal(outcome, 'ERR_INTEGRITY_MISMATCH');
    }
    assert.equal(await store.stat('a/bad'), undefined);
    await tick();
    assert.deepEqual(await readdir(join(root, 'tmp')), [], 'no temp leftovers');
  });

  void it('small artifacts failing verification give a clean error before any byte', async () => {
    const { cache } = await setup();
    const { route, state } = manualRoute('a/small', Buffer.from('good'));
    const p = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.end(Buffer.from('evil'));
    await assert.rejects(p, (e: RegcacheError) => e.code === 'ERR_INTEGRITY_MISMATCH');
  });

  void it('a client that disconnects does not abort the fill for the others', async () => {
    const { cache, store } = await setup();
    const bytes = Buffer.alloc(500_000, 9);
    const { route, state } = manualRoute('a/leave', bytes);
    const first = cache.artifact(route, { head: false });
    const second = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.write(bytes.subarray(0, 200_000));
    (await first).body?.destroy();
    state.source?.end(bytes.subarray(200_000));
    assert.ok((await readAll((await second).body)).equals(bytes));
    assert.equal((await store.stat('a/leave'))?.size, bytes.length);
  });

  void it('passes a non-cacheable upstream answer to every waiter and stores nothing', async () => {
    const { cache, store } = await setup();
    let fetches = 0;
    const route: ArtifactRoute = {
      kind: 'artifact',
      key: 'a/404',
      contentType: 'application/zip',
      async fetch() {
        fetches++;
        await tick();
        throw new RegcacheError('ERR_UPSTREAM_NOT_FOUND', 'gone', { upstreamStatus: 404 });
      },
      verify() {},
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.artifact(route, { head: false })));
    assert.equal(fetches, 1);
    for (const r of results) assert.equal(r.status === 'rejected' && (r.reason as RegcacheError).code, 'ERR_UPSTREAM_NOT_FOUND');
    assert.equal(await store.stat('a/404'), undefined);
    await assert.rejects(cache.artifact(route, { head: false }));
    assert.equal(fetches, 2, 'not cached: the next request asks again');
  });

  void it('refuses a body shorter than announced', async () => {
    const { cache, store } = await setup();
    const bytes = Buffer.alloc(100_000, 4);
    const { route, state } = manualRoute('a/short', bytes);
    const p = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.end(bytes.subarray(0, 90_000));
    await assert.rejects(
      p.then((r) => readAll(r.body)),
      (e: RegcacheError) => e.code === 'ERR_UPSTREAM_BAD_RESPONSE',
    );
    assert.equal(await store.stat('a/short'), undefined);
  });

  void it('serves ranges and HEAD from the store', async () => {
    const { cache } = await setup();
    const bytes = Buffer.from('0123456789abcdef');
    const { route } = await cachedRoute(cache, 'a/range', bytes);
    const r = await cache.artifact(route, { head: false, pickRange: () => ({ start: 2, end: 5 }) });
    assert.equal((await readAll(r.body)).toString(), '2345');
    const h = await cache.artifact(route, { head: true });
    assert.equal(h.body, undefined);
    assert.equal(h.size, 16);
    await assert.rejects(cache.artifact(route, { head: false, pickRange: () => 'unsatisfiable' }), (e: RegcacheError) => e.code === 'ERR_RANGE_NOT_SATISFIABLE');
  });

  void it('answers HEAD of a cached artifact from what an earlier request read, until invalidated or HEAD_META_MS old', async () => {
    let t = 1_000_000;
    const { cache, store } = await setup(() => t);
    const bytes = Buffer.from('head-meta-bytes');
    const { route, state } = await cachedRoute(cache, 'a/headmeta', bytes);
    await readAll((await cache.artifact(route, { head: false })).body);
    let stats = 0;
    const stat = store.stat.bind(store);
    store.stat = (key) => {
      stats++;
      return stat(key);
    };
    const h = await cache.artifact(route, { head: true });
    assert.equal(h.size, bytes.length);
    assert.equal(h.sha256, sha(bytes));
    assert.equal(stats, 0, 'HEAD after a GET needs no store access');
    t += 61_000;
    await cache.artifact(route, { head: true });
    assert.equal(stats, 1, 'an old memo is read again');
    await cache.artifact(route, { head: true });
    assert.equal(stats, 1);
    assert.equal(await cache.invalidate('a/headmeta'), true);
    const refetch = cache.artifact(route, { head: true });
    for (let i = 0; i < 100 && state.fetches < 2; i++) await tick();
    assert.equal(stats, 2, 'an invalidated key is looked up in the store');
    assert.equal(state.fetches, 2, 'and, gone, filled again');
    state.source?.end(bytes);
    assert.equal((await refetch).size, bytes.length);
  });

  void it('close() aborts running fills and commits nothing', async () => {
    const { cache, store } = await setup();
    const bytes = Buffer.alloc(200_000, 5);
    const route: ArtifactRoute = {
      kind: 'artifact',
      key: 'a/shutdown',
      contentType: 'x',
      fetch(signal) {
        const body = new PassThrough();
        body.write(bytes.subarray(0, 100_000));
        signal.addEventListener('abort', () => body.destroy(new Error('aborted')));
        return Promise.resolve({ body, size: bytes.length });
      },
      verify() {},
    };
    const reply = await cache.artifact(route, { head: false });
    const reading = readAll(reply.body).then(
      () => 'completed',
      () => 'failed',
    );
    await cache.close();
    assert.equal(await reading, 'failed');
    assert.equal(await store.stat('a/shutdown'), undefined);
    await assert.rejects(cache.artifact(route, { head: false }), (e: RegcacheError) => e.code === 'ERR_SHUTTING_DOWN');
  });
});

void describe('cache: metadata', () => {
  function metaRoute(key: string, loads: { n: number; fail?: RegcacheError }, ttlMs = 1000, staleIfErrorMs = 10_000): MetadataRoute {
    return {
      kind: 'metadata',
      key,
      ttlMs,
      staleIfErrorMs,
      async load() {
        loads.n++;
        await tick();
        if (loads.fail) throw loads.fail;
        return { body: Buffer.from(`v${loads.n}`), contentType: 'application/json' };
      },
    };
  }

  void it('serves fresh copies without loading, single-flights cold loads', async () => {
    let t = 1_000_000;
    const { cache } = await setup(() => t);
    const loads = { n: 0 };
    const route = metaRoute('m/one', loads);
    const all = await Promise.all(Array.from({ length: 5 }, () => cache.metadata(route)));
    assert.equal(loads.n, 1);
    assert.ok(all.every((r) => r.result === 'miss' && r.body.toString() === 'v1'));
    t += 500;
    const hit = await cache.metadata(route);
    assert.equal(hit.result, 'hit');
    assert.equal(loads.n, 1);
  });

  void it('after ttl serves stale while one background refresh runs', async () => {
    let t = 1_000_000;
    const { cache } = await setup(() => t);
    const loads = { n: 0 };
    const route = metaRoute('m/stale', loads);
    await cache.metadata(route);
    t += 1500;
    const [a, b] = await Promise.all([cache.metadata(route), cache.metadata(route)]);
    assert.equal(a.result, 'stale');
    assert.equal(b.result, 'stale');
    assert.equal(a.body.toString(), 'v1');
    for (let i = 0; i < 200 && cache.inflight > 0; i++) await tick();
    assert.equal(cache.inflight, 0);
    assert.equal(loads.n, 2, 'exactly one background refresh');
    const after = await cache.metadata(route);
    assert.equal(after.body.toString(), 'v2');
    assert.equal(after.result, 'hit');
  });

  void it('serves stale while upstream fails, within staleIfError; errors beyond it', async () => {
    let t = 1_000_000;
    const { cache } = await setup(() => t);
    const loads: { n: number; fail?: RegcacheError } = { n: 0 };
    const route = metaRoute('m/sie', loads);
    await cache.metadata(route);
    loads.fail = new RegcacheError('ERR_UPSTREAM_STATUS', 'upstream 503', { upstreamStatus: 503 });
    t += 5000;
    const stale = await cache.metadata(route);
    assert.equal(stale.result, 'stale');
    assert.equal(stale.body.toString(), 'v1');
    t += 20_000;
    await assert.rejects(cache.metadata(route), (e: RegcacheError) => e.code === 'ERR_UPSTREAM_STATUS');
  });

  void it('after a failed background refresh, the next one waits a second: stale answers meanwhile', async () => {
    let t = 1_000_000;
    const { cache } = await setup(() => t);
    const loads: { n: number; fail?: RegcacheError } = { n: 0 };
    const route = metaRoute('m/backoff', loads);
    await cache.metadata(route);
    loads.fail = new RegcacheError('ERR_UPSTREAM_UNREACHABLE', 'connection refused');
    const settled = async (): Promise<void> => {
      for (let i = 0; i < 200 && cache.inflight > 0; i++) await tick();
    };
    t += 5000;
    assert.equal((await cache.metadata(route)).result, 'stale');
    await settled();
    assert.equal(loads.n, 2, 'one refresh tried');
    t += 999;
    for (let i = 0; i < 5; i++) assert.equal((await cache.metadata(route)).result, 'stale');
    await settled();
    assert.equal(loads.n, 2, 'no retry within a second of the failure');
    t += 1;
    assert.equal((await cache.metadata(route)).result, 'stale');
    await settled();
    assert.equal(loads.n, 3, 'retried once the second passed');
    delete loads.fail;
    t += 1000;
    await cache.metadata(route);
    await settled();
    assert.equal(loads.n, 4);
    const fresh = await cache.metadata(route);
    assert.equal(fresh.result, 'hit', 'a successful refresh clears the wait');
  });

  void it('survives a restart: metadata is read back from the store', async () => {
    const t = 1_000_000;
    const { store } = await setup(() => t);
    const loads = { n: 0 };
    const c1 = createCache({ store, now: () => t });
    await c1.metadata(metaRoute('m/persist', loads));
    const c2 = createCache({ store, now: () => t + 10 });
    const r = await c2.metadata(metaRoute('m/persist', loads));
    assert.equal(r.result, 'hit');
    assert.equal(loads.n, 1);
  });
});

void describe('cache: derived answers', () => {
  const metaRoute = (key: string, loads: { n: number }): MetadataRoute => ({
    kind: 'metadata',
    key,
    ttlMs: 60_000,
    staleIfErrorMs: 60_000,
    load() {
      loads.n++;
      return Promise.resolve({ body: Buffer.from(`v${loads.n}`), contentType: 'text/plain' });
    },
  });

  void it('reuses a composed answer until a cached object changes, is dropped, or the answer ages out', async () => {
    let t = 1_000_000;
    const { cache } = await setup(() => t);
    const loads = { n: 0 };
    let builds = 0;
    const compose = (): Promise<string> =>
      cache.derived('m/answer', 1000, async () => {
        builds++;
        const m = await cache.metadata(metaRoute('m/src', loads));
        return { value: `built from ${m.body.toString()}`, cost: 10 };
      });
    assert.equal(await compose(), 'built from v1');
    // The first build stored its source while it ran, so its answer is not trusted; the second is.
    assert.equal(await compose(), 'built from v1');
    assert.equal(await compose(), 'built from v1');
    assert.equal(builds, 2, 'reused while nothing changed');
    // Another cached object of the namespace stored by this process invalidates its composed answers.
    await cache.metadata(metaRoute('m/other', { n: 0 }));
    assert.equal(await compose(), 'built from v1');
    assert.equal(builds, 3);
    // A purge of the source: the next answer is composed from a fresh load.
    await cache.invalidate('m/src');
    assert.equal(await compose(), 'built from v2');
    assert.equal(await compose(), 'built from v2');
    assert.equal(builds, 5);
    assert.equal(await compose(), 'built from v2');
    assert.equal(builds, 5);
    // Nothing changed, but the answer is older than its maximum age.
    t += 1000;
    assert.equal(await compose(), 'built from v2');
    assert.equal(builds, 6);
    assert.equal(await compose(), 'built from v2');
    assert.equal(builds, 6);
  });

  void it('never reuses an answer marked not cacheable, nor a failure', async () => {
    const { cache } = await setup();
    let builds = 0;
    const once = (cacheable: boolean): Promise<number> =>
      cache.derived('k', 60_000, () => {
        builds++;
        return Promise.resolve({ value: builds, cost: 1, cacheable });
      });
    assert.equal(await once(false), 1);
    assert.equal(await once(false), 2);
    await assert.rejects(cache.derived('k2', 60_000, () => Promise.reject(new RegcacheError('ERR_UPSTREAM_UNREACHABLE'))));
    assert.equal(await cache.derived('k2', 60_000, () => Promise.resolve({ value: 'ok', cost: 1 })), 'ok');
  });

  void it('an artifact commit invalidates composed answers (a new h1 must show up)', async () => {
    const { cache } = await setup();
    let builds = 0;
    const compose = (): Promise<number> => cache.derived('a/answer', 60_000, () => Promise.resolve({ value: ++builds, cost: 1 }));
    await compose();
    const bytes = Buffer.alloc(1000, 9);
    const { route, state } = manualRoute('a/commit', bytes);
    const reply = cache.artifact(route, { head: false });
    await state.fetched;
    state.source?.end(bytes);
    await readAll((await reply).body);
    for (let i = 0; i < 50 && (await compose()) === 1; i++) await tick();
    assert.equal(await compose(), 2);
  });
});

void describe('cache: derived answers over stale metadata', () => {
  void it('does not reuse an answer built from a stale input, so each request retries the failing refresh (once its second of waiting passed)', async () => {
    let t = 1_000_000;
    const { cache } = await setup(() => t);
    const loads = { n: 0 };
    const route: MetadataRoute = {
      kind: 'metadata',
      key: 'm/stale',
      ttlMs: 0, // stale as soon as stored: served from the copy while a refresh runs
      staleIfErrorMs: 60_000,
      load() {
        loads.n++;
        // Upstream fails every refresh: nothing in the cache changes afterwards.
        if (loads.n > 1) return Promise.reject(new RegcacheError('ERR_UPSTREAM_UNREACHABLE'));
        return Promise.resolve({ body: Buffer.from('v1'), contentType: 'text/plain' });
      },
    };
    let builds = 0;
    const compose = (): Promise<string> =>
      cache.derived('m/answer', 60_000, async () => {
        builds++;
        return { value: (await cache.metadata(route)).body.toString(), cost: 1 };
      });
    assert.equal(await compose(), 'v1');
    for (let i = 0; i < 4; i++) {
      const loadsBefore = loads.n;
      t += 1000;
      assert.equal(await compose(), 'v1', 'the stale copy is served');
      for (let j = 0; j < 50 && (loads.n === loadsBefore || cache.inflight > 0); j++) await tick();
      assert.equal(loads.n, loadsBefore + 1, `request ${i + 2} retried the refresh`);
    }
    assert.equal(builds, 5, 'never reused');
  });
});
