/**
 * ArtifactRoute.headers: a route's own response headers (Vary, an
 * ecosystem's digest header) go out with every answer for the artifact,
 * miss, hit, HEAD and 304, and never replace the headers the core owns.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createCache, type Cache } from '../../src/core/cache.js';
import { createHandler } from '../../src/http/handler.js';
import { startListener, type Listener } from '../../src/http/server.js';
import type { Mirror } from '../../src/mirrors/mirror.js';
import { rawRequest } from '../integration/http-client.js';
import { fsStoreFixtures } from '../support/store-objects.js';

const { freshStore } = fsStoreFixtures('regcache-route-headers-');
/** Larger than the default hold-back: a miss is streamed before its digest is known, so the core sets no etag of its own. */
const BODY = Buffer.alloc(200 * 1024, 7);
const DIGEST = createHash('sha256').update(BODY).digest('hex');

let cache: Cache;
let listener: Listener;
let base: string;
let fetches = 0;

const adapter: Mirror = {
  name: 'test-adapter',
  prefix: ['blob'],
  handle() {
    return Promise.resolve({
      kind: 'artifact',
      route: {
        kind: 'artifact',
        key: 'test/blob',
        contentType: 'application/octet-stream',
        headers: { vary: 'Accept', 'x-test-digest': `sha256:${DIGEST}`, 'content-type': 'text/evil', etag: '"forged"' },
        fetch() {
          fetches += 1;
          return Promise.resolve({ size: BODY.length, body: Readable.from([BODY.subarray(0, 100_000), BODY.subarray(100_000)]) });
        },
        verify() {},
      },
    });
  },
};

void describe('route headers', () => {
  before(async () => {
    cache = createCache({ store: await freshStore() });
    const handler = createHandler({
      endpoints: [],
      mirrors: [adapter],
      cache,
      publicUrl: undefined,
      trustProxy: false,
      tls: false,
      onRequest: () => undefined,
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

  void it('go out on a miss, a hit, a HEAD and a 304, and do not replace the core headers', async () => {
    const answers = [
      await rawRequest(base, '/blob/x'),
      await rawRequest(base, '/blob/x'),
      await rawRequest(base, '/blob/x', { method: 'HEAD' }),
      await rawRequest(base, '/blob/x', { headers: { 'if-none-match': `"${DIGEST}"` } }),
    ];
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 304]);
    assert.equal(fetches, 1);
    assert.deepEqual(answers[1]?.body, BODY);
    for (const r of answers) {
      assert.equal(r.headers.vary, 'Accept');
      assert.equal(r.headers['x-test-digest'], `sha256:${DIGEST}`);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
    }
    assert.equal(answers[0]?.headers.etag, undefined);
    for (const r of answers.slice(1)) assert.equal(r.headers.etag, `"${DIGEST}"`);
  });
});
