/**
 * Health, readiness (including a broken store) and graceful stop while a
 * download is streaming, against the fake origin over real sockets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, jsonOf, rawRequest } from './http-client.js';
import { breakTmpDir, mirrorPathOf, providerKeyOf, restoreTmpDir, startHarness, waitFor, zipPathOf, type Harness } from './harness.js';

const LINUX = [{ os: 'linux', arch: 'amd64' }];

void describe('integration: lifecycle', () => {
  let h: Harness;
  const slowZip = zipPathOf('acme', 'slow', '1.0.0', 'linux', 'amd64');
  const slowKey = `${providerKeyOf('acme', 'slow')}/1.0.0/linux_amd64/zip`;
  const quickZip = zipPathOf('acme', 'quick', '1.0.0', 'linux', 'amd64');
  const quickKey = `${providerKeyOf('acme', 'quick')}/1.0.0/linux_amd64/zip`;

  before(async () => {
    h = await startHarness({
      server: { shutdownTimeout: '2s' },
      providers: [
        { namespace: 'acme', type: 'slow', versions: [{ version: '1.0.0', platforms: LINUX, extraBytes: 400_000 }] },
        { namespace: 'acme', type: 'quick', versions: [{ version: '1.0.0', platforms: LINUX }] },
        { namespace: 'acme', type: 'later', versions: [{ version: '1.0.0', platforms: LINUX }] },
      ],
    });
  });

  after(async () => {
    await h?.stop();
  });

  void it('/health and /ready answer 200 JSON', async () => {
    const health = await h.get('/health');
    assert.equal(health.status, 200);
    assert.deepEqual(jsonOf(health), { status: 'ok' });
    const ready = await h.get('/ready');
    assert.equal(ready.status, 200);
    assert.equal(jsonOf<{ status: string }>(ready).status, 'ready');
    const head = await h.get('/health', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.deepEqual(await h.tmpEntries(), [], 'the readiness probe leaves no temp file');
  });

  void it('/ready answers 503 ERR_STORAGE_UNAVAILABLE while cache/tmp is not a directory; a cold zip then fails 503 and commits nothing; both recover', async () => {
    await breakTmpDir(h);
    try {
      assertJsonError(await h.get('/ready'), 503, 'ERR_STORAGE_UNAVAILABLE', '/ready with a broken store');
      assert.equal((await h.get('/health')).status, 200, 'liveness is not readiness');
      assertJsonError(await h.get(quickZip), 503, 'ERR_STORAGE_UNAVAILABLE', 'cold zip with a broken store');
      await waitFor(() => h.app.cache.inflight === 0, 'fill settled');
      assert.equal(await h.app.store.stat(quickKey), undefined);
    } finally {
      await restoreTmpDir(h);
    }
    const ready = await h.get('/ready');
    assert.equal(ready.status, 200, ready.body.toString('utf8'));
    const zip = await h.get(quickZip);
    assert.equal(zip.status, 200);
    assert.ok(zip.body.equals(h.origin.zipBytes('acme', 'quick', '1.0.0', 'linux', 'amd64')));
    await h.settle();
    assert.ok(await h.app.store.stat(quickKey), 'committed after recovery');
  });

  void it('graceful stop: a short in-flight request completes, a stalled zip stream is cut, nothing partial stays; a restart downloads it whole', async () => {
    const slowName = 'slow_1.0.0_linux_amd64.zip';
    h.origin.setFault(slowName, { kind: 'hangBody', afterBytes: 200_000 });
    h.origin.setFault('/v1/providers/acme/later/versions', { kind: 'delay', ms: 300 });
    let received = 0;
    const slow = h.get(slowZip, {
      progress: (n) => {
        received = n;
      },
    });
    await waitFor(() => received > 0, 'the slow zip started streaming to the client');
    const later = h.get(`${mirrorPathOf('acme', 'later')}/index.json`);
    await waitFor(() => h.origin.count('/v1/providers/acme/later/versions') > 0, 'the short request is in flight upstream');

    const oldUrl = h.app.url;
    await h.app.stop();
    const [slowRes, laterRes] = await Promise.all([slow, later]);
    assert.equal(laterRes.status, 200, 'in-flight metadata request finished during the graceful stop');
    assert.ok(laterRes.complete);
    assert.deepEqual(Object.keys(jsonOf<{ versions: object }>(laterRes).versions), ['1.0.0']);
    assert.equal(slowRes.status, 200);
    assert.ok(!slowRes.complete, 'the stalled transfer was cut');
    assert.ok(slowRes.body.length < h.origin.zipBytes('acme', 'slow', '1.0.0', 'linux', 'amd64').length);

    assert.ok(!(await h.objectFiles()).includes(`${slowKey}~obj`), 'no partial object committed');
    assert.deepEqual(await h.tmpEntries(), [], 'no temp file left after stop');
    assert.ok(
      h.logs.some((l) => l.msg === 'fill failed, nothing committed' && l.key === slowKey && l.code === 'ERR_SHUTTING_DOWN'),
      'the aborted fill is logged as shutting down',
    );
    await assert.rejects(rawRequest(oldUrl, '/health'), 'the listener is closed');

    h.origin.clearFaults();
    await h.restart();
    const again = await h.get(slowZip);
    assert.equal(again.status, 200);
    assert.ok(again.complete && again.body.equals(h.origin.zipBytes('acme', 'slow', '1.0.0', 'linux', 'amd64')));
    await h.settle();
    assert.ok(await h.app.store.stat(slowKey));
  });
});
