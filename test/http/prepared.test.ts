/**
 * The handler's prepared answers with a counting adapter (a real Mirror
 * mounted on a real listener and cache): which repeats skip the adapter, and
 * which go back to it (cache change, memo expiry, another Host, another
 * method, an answer not marked reusable).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCache, type Cache } from '../../src/core/cache.js';
import type { RequestEvent } from '../../src/http/endpoint.js';
import { createHandler } from '../../src/http/handler.js';
import { startListener, type Listener } from '../../src/http/server.js';
import { jsonAnswer, type Mirror } from '../../src/mirrors/mirror.js';
import { rawRequest } from '../integration/http-client.js';
import { fsStoreFixtures } from '../support/store-objects.js';

const MEMO_MS = 1000;
const { freshStore } = fsStoreFixtures('regcache-prepared-');

let clock = 1_000_000;
let cache: Cache;
let listener: Listener;
let base: string;
const calls: string[] = [];
const events: RequestEvent[] = [];

/** Answers /t/reusable/<n> through the cache's memo (marked reusable) and /t/plain/<n> without. */
const adapter: Mirror = {
  name: 'test-adapter',
  prefix: ['t'],
  async handle(req) {
    calls.push(`${req.method} ${req.segments.join('/')} ${req.baseUrl}`);
    const body = { path: req.segments, base: req.baseUrl };
    if (req.segments[0] !== 'reusable') return jsonAnswer(body, 'hit');
    const key = `test/${req.baseUrl} ${req.segments.join('/')}`;
    const value = await cache.derived(key, MEMO_MS, () => Promise.resolve({ value: jsonAnswer(body, 'miss'), cost: 100 }));
    const reuse = cache.derivedStamp(key, MEMO_MS);
    return reuse ? { ...value, reuse } : value;
  },
};

const get = async (target: string, opts: { method?: string; host?: string } = {}): Promise<void> => {
  const r = await rawRequest(base, target, { ...(opts.method ? { method: opts.method } : {}), ...(opts.host ? { headers: { host: opts.host } } : {}) });
  assert.equal(r.status, 200, r.body.toString());
};

void describe('prepared answers in the handler', () => {
  before(async () => {
    cache = createCache({ store: await freshStore(), now: () => clock });
    const handler = createHandler({
      endpoints: [],
      mirrors: [adapter],
      cache,
      publicUrl: undefined,
      trustProxy: false,
      tls: false,
      onRequest: (e) => events.push(e),
      redirect: undefined,
      onInternalError: (err) => assert.fail(String(err)),
      preparedBytes: 1024 * 1024,
    });
    listener = await startListener('127.0.0.1', 0, undefined, handler);
    base = `http://127.0.0.1:${listener.address().port}`;
  });
  after(async () => {
    await listener?.stop(100);
    await cache?.close();
  });

  void it('a repeat of a reusable answer does not reach the adapter, and is reported as a metadata hit', async () => {
    calls.length = 0;
    await get('/t/reusable/a');
    await get('/t/reusable/a');
    await get('/t/reusable/a');
    assert.equal(calls.length, 1, calls.join('\n'));
    const last = events.at(-1);
    assert.equal(last?.route, 'test-adapter');
    assert.equal(last?.kind, 'metadata');
    assert.equal(last?.cache, 'hit');
    assert.equal(last?.path, '/t/reusable/a');
  });

  void it('another target, Host or method goes to the adapter once, then is replayed too', async () => {
    calls.length = 0;
    for (let i = 0; i < 2; i++) {
      await get('/t/reusable/b');
      await get('/t/reusable/a', { host: 'other.example' });
      await get('/t/reusable/a', { method: 'HEAD' });
    }
    assert.deepEqual(calls.sort(), ['GET reusable/a http://other.example', `GET reusable/b ${base}`, `HEAD reusable/a ${base}`]);
  });

  void it('a target with a query string always goes to the adapter', async () => {
    calls.length = 0;
    for (let i = 0; i < 3; i++) await get('/t/reusable/q?x=1');
    assert.equal(calls.length, 3);
  });

  void it('answers not marked reusable always go to the adapter', async () => {
    calls.length = 0;
    for (let i = 0; i < 3; i++) await get('/t/plain/a');
    assert.equal(calls.length, 3);
  });

  void it('any change in the memo\'s namespace, or the memo expiring, sends the next request to the adapter', async () => {
    await get('/t/reusable/c');
    calls.length = 0;
    await cache.invalidate('other/unrelated/key');
    await get('/t/reusable/c');
    assert.equal(calls.length, 0, 'a change in another namespace leaves it replayed');
    await cache.invalidate('test/unrelated/key');
    await get('/t/reusable/c');
    await get('/t/reusable/c');
    assert.equal(calls.length, 1, 'rebuilt once after the change, then replayed');
    clock += MEMO_MS - 1;
    await get('/t/reusable/c');
    assert.equal(calls.length, 1, 'still within the memo');
    clock += 1;
    await get('/t/reusable/c');
    await get('/t/reusable/c');
    assert.equal(calls.length, 2, 'rebuilt once when the memo expired, then replayed');
  });
});
