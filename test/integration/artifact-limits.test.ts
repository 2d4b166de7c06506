/**
 * Unbounded downloads (issue 17, point 8), in the Terraform mode: a
 * provider zip larger than `terraform.limits.maxArtifactBytes` fails with
 * ERR_UPSTREAM_TOO_LARGE and nothing is stored, and a zip that trickles
 * past `upstream.fillDeadline` fails with ERR_UPSTREAM_TIMEOUT. Both are
 * asserted on codes and stored objects, never on time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError } from './http-client.js';
import { startHarness, zipPathOf, type Harness } from './harness.js';

const LINUX = [{ os: 'linux', arch: 'amd64' }];

void describe('terraform: artifact size cap and fill deadline', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      providers: [
        { namespace: 'acme', type: 'small', versions: [{ version: '1.0.0', platforms: LINUX }] },
        { namespace: 'acme', type: 'huge', versions: [{ version: '1.0.0', platforms: LINUX, extraBytes: 300_000 }] },
        { namespace: 'acme', type: 'drip', versions: [{ version: '1.0.0', platforms: LINUX, extraBytes: 100_000 }] },
      ],
      // bodyTimeout far beyond the deadline: only the deadline can end a held body within the test.
      upstream: { fillDeadline: '1s', bodyTimeout: '120s' },
      extra: { terraform: { limits: { maxArtifactBytes: 200_000 } } },
    });
  });
  after(() => h.stop());

  void it('refuses a zip over maxArtifactBytes and stores nothing; a small one is served', async () => {
    assertJsonError(await h.get(zipPathOf('acme', 'huge', '1.0.0', 'linux', 'amd64')), 502, 'ERR_UPSTREAM_TOO_LARGE');
    await h.settle();
    assert.ok(!(await h.objectFiles()).some((f) => f.includes('huge') && f.includes('zip')), 'no zip stored');
    const ok = await h.get(zipPathOf('acme', 'small', '1.0.0', 'linux', 'amd64'));
    assert.equal(ok.status, 200);
  });

  void it('fails a download that trickles past upstream.fillDeadline and stores nothing', async () => {
    // The zip's metadata first, so the only slow request is the zip itself.
    assert.equal((await h.get('/v1/mirror/registry.terraform.io/acme/drip/1.0.0.json')).status, 200);
    h.origin.setFault('drip_1.0.0_linux_amd64.zip', { kind: 'hangBody', afterBytes: 1000 });
    const r = await h.get(zipPathOf('acme', 'drip', '1.0.0', 'linux', 'amd64'));
    h.origin.clearFaults();
    // Headers may already be out (the first bytes stream): then the transfer is cut short instead.
    if (r.status === 200) assert.equal(r.complete, false, 'the transfer was cut, never completed');
    else assertJsonError(r, 504, 'ERR_UPSTREAM_TIMEOUT');
    assert.ok(h.logs.some((l) => l.msg === 'fill failed, nothing committed' && String(l.err).includes('did not finish within 1000 ms')), 'ended by the fill deadline');
    await h.settle();
    assert.ok(!(await h.objectFiles()).some((f) => f.includes('drip') && f.includes('zip')), 'no zip stored');
    assert.equal((await h.get(zipPathOf('acme', 'drip', '1.0.0', 'linux', 'amd64'))).status, 200, 'fetched again once upstream is well');
  });
});
