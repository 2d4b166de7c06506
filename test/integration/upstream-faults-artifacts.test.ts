/**
 * Upstream failures while pulling provider zips and their signed checksums:
 * a small zip (below the verification holdback) fails with a JSON error, a
 * large one that already streamed is cut so the client never sees a
 * complete body; in both cases nothing is committed and no temp file stays,
 * and the same request succeeds once the fault is cleared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOLDBACK } from '../../src/core/fill.js';
import type { Fault } from '../fakes/origin-registry.js';
import { assertJsonError, jsonOf, type RawResponse } from './http-client.js';
import { mirrorPathOf, providerKeyOf, startHarness, zipPathOf, type Harness } from './harness.js';

const PLATFORMS = ['linux_amd64', 'darwin_arm64', 'windows_amd64', 'freebsd_amd64'].map((p) => {
  const [os = '', arch = ''] = p.split('_');
  return { os, arch };
});
const BIG_EXTRA = 300_000;

/** One zip of the `acme/files` provider: 1.0.0 zips are small, 2.0.0 zips are large. */
interface Zip {
  version: '1.0.0' | '2.0.0';
  os: string;
  arch: string;
}

void describe('integration: upstream faults on provider zips', () => {
  let h: Harness;

  const zipKey = (z: Zip, type = 'files'): string => `${providerKeyOf('acme', type)}/${z.version}/${z.os}_${z.arch}/zip`;
  const zipPath = (z: Zip, type = 'files'): string => zipPathOf('acme', type, z.version, z.os, z.arch);
  const fileName = (z: Zip, type = 'files'): string => `${type}_${z.version}_${z.os}_${z.arch}.zip`;
  const bytesOf = (z: Zip, type = 'files'): Buffer => h.origin.zipBytes('acme', type, z.version, z.os, z.arch);
  const zipGets = (z: Zip, type = 'files'): number => h.origin.count((p) => p.endsWith(fileName(z, type)), 'GET');

  async function assertNothingCommitted(z: Zip, code: string, type = 'files'): Promise<void> {
    await h.settle();
    assert.equal(await h.app.store.stat(zipKey(z, type)), undefined, 'no object committed');
    assert.ok(!(await h.objectFiles()).includes(`${zipKey(z, type)}~obj`), 'no object file on disk');
    assert.deepEqual(await h.tmpEntries(), [], 'no temp file left');
    assert.ok(
      h.logs.some((l) => l.msg === 'fill failed, nothing committed' && l.key === zipKey(z, type) && l.code === code),
      `fill failure with ${code} logged`,
    );
  }

  /** The code the fill failure was logged with, once the fill settled (the client may see the cut first). */
  async function fillFailureCode(z: Zip): Promise<string> {
    await h.settle();
    return String(h.logs.filter((l) => l.key === zipKey(z) && l.msg === 'fill failed, nothing committed').at(-1)?.code);
  }

  function assertCut(res: RawResponse, z: Zip): void {
    const size = bytesOf(z).length;
    assert.equal(res.status, 200, 'headers were already sent when the fill failed');
    assert.ok(!res.complete, 'the transfer is cut, not completed');
    assert.ok(res.body.length < size, `short body (${res.body.length} of ${size})`);
    assert.ok(res.body.length <= size - HOLDBACK, 'the verification holdback was never released');
  }

  async function assertRecovers(z: Zip, type = 'files'): Promise<void> {
    h.origin.clearFaults();
    const res = await h.get(zipPath(z, type));
    assert.equal(res.status, 200, res.body.toString('utf8').slice(0, 300));
    assert.ok(res.complete && res.body.equals(bytesOf(z, type)), 'full, byte-identical zip after the fault cleared');
    await h.settle();
    assert.ok(await h.app.store.stat(zipKey(z, type)), 'committed after success');
  }

  async function coldFailure(z: Zip, fault: Fault, status: number, code: string | RegExp, concurrency = 1): Promise<RawResponse[]> {
    h.origin.setFault(fileName(z), fault);
    const before = zipGets(z);
    const all = await Promise.all(Array.from({ length: concurrency }, () => h.get(zipPath(z))));
    for (const r of all) assertJsonError(r, status, code, fileName(z));
    assert.equal(zipGets(z) - before, 1, 'one upstream download for all waiters');
    return all;
  }

  before(async () => {
    h = await startHarness({
      providers: [
        { namespace: 'acme', type: 'files', versions: [{ version: '1.0.0', platforms: PLATFORMS }, { version: '2.0.0', platforms: PLATFORMS, extraBytes: BIG_EXTRA }] },
        { namespace: 'acme', type: 'badsig', versions: [{ version: '1.0.0', platforms: PLATFORMS.slice(0, 2) }] },
      ],
    });
  });

  after(async () => {
    await h?.stop();
  });

  void it('zip hangs before headers: 504 ERR_UPSTREAM_TIMEOUT to every concurrent waiter, nothing committed', async () => {
    const z: Zip = { version: '1.0.0', os: 'linux', arch: 'amd64' };
    await coldFailure(z, { kind: 'hang' }, 504, 'ERR_UPSTREAM_TIMEOUT', 4);
    await assertNothingCommitted(z, 'ERR_UPSTREAM_TIMEOUT');
    await assertRecovers(z);
  });

  void it('small zip stalls mid-body: 504 ERR_UPSTREAM_TIMEOUT, nothing committed', async () => {
    const z: Zip = { version: '1.0.0', os: 'darwin', arch: 'arm64' };
    await coldFailure(z, { kind: 'hangBody', afterBytes: 100 }, 504, 'ERR_UPSTREAM_TIMEOUT');
    await assertNothingCommitted(z, 'ERR_UPSTREAM_TIMEOUT');
    await assertRecovers(z);
  });

  void it('large zip stalls mid-body: the client transfer is cut, nothing committed', async () => {
    const z: Zip = { version: '2.0.0', os: 'linux', arch: 'amd64' };
    h.origin.setFault(fileName(z), { kind: 'hangBody', afterBytes: 150_000 });
    assertCut(await h.get(zipPath(z)), z);
    await assertNothingCommitted(z, 'ERR_UPSTREAM_TIMEOUT');
    await assertRecovers(z);
  });

  void it('small zip truncated: 502 JSON error, nothing committed', async () => {
    const z: Zip = { version: '1.0.0', os: 'windows', arch: 'amd64' };
    await coldFailure(z, { kind: 'truncate', afterBytes: 100 }, 502, /^ERR_UPSTREAM_(BAD_RESPONSE|UNREACHABLE)$/);
    await assertNothingCommitted(z, await fillFailureCode(z));
    await assertRecovers(z);
  });

  void it('large zip truncated: the client transfer is cut, nothing committed', async () => {
    const z: Zip = { version: '2.0.0', os: 'darwin', arch: 'arm64' };
    h.origin.setFault(fileName(z), { kind: 'truncate', afterBytes: 150_000 });
    assertCut(await h.get(zipPath(z)), z);
    const code = await fillFailureCode(z);
    assert.match(code, /^ERR_UPSTREAM_(BAD_RESPONSE|UNREACHABLE)$/);
    await assertNothingCommitted(z, code);
    await assertRecovers(z);
  });

  void it('small zip with a wrong shasum: 502 ERR_INTEGRITY_MISMATCH to all waiters; the cached copy later survives the fault', async () => {
    const z: Zip = { version: '1.0.0', os: 'freebsd', arch: 'amd64' };
    await coldFailure(z, { kind: 'wrongShasum' }, 502, 'ERR_INTEGRITY_MISMATCH', 3);
    await assertNothingCommitted(z, 'ERR_INTEGRITY_MISMATCH');
    await assertRecovers(z);
    // Once cached, a misbehaving origin is never consulted again.
    h.origin.setFault(fileName(z), { kind: 'wrongShasum' });
    const before = h.origin.requests.length;
    const warm = await h.get(zipPath(z));
    assert.equal(warm.status, 200);
    assert.ok(warm.body.equals(bytesOf(z)));
    assert.equal(h.origin.requests.length, before, 'served from the cache');
    h.origin.clearFaults();
  });

  void it('large zip with a wrong shasum: the transfer is cut before the end, nothing committed', async () => {
    const z: Zip = { version: '2.0.0', os: 'windows', arch: 'amd64' };
    h.origin.setFault(fileName(z), { kind: 'wrongShasum' });
    const res = await h.get(zipPath(z));
    assert.equal(res.status, 200);
    assert.ok(!res.complete, 'cut');
    assert.ok(res.body.length < bytesOf(z).length);
    await assertNothingCommitted(z, 'ERR_INTEGRITY_MISMATCH');
    await assertRecovers(z);
  });

  void it('bad SHA256SUMS signature: {version}.json and zips 502 ERR_SIGNATURE_INVALID, nothing cached', async () => {
    const z: Zip = { version: '1.0.0', os: 'linux', arch: 'amd64' };
    const base = mirrorPathOf('acme', 'badsig');
    const sumsKey = `${providerKeyOf('acme', 'badsig')}/1.0.0/shasums`;
    h.origin.setFault('badsig_1.0.0_SHA256SUMS.sig', { kind: 'badSignature' });
    assertJsonError(await h.get(`${base}/1.0.0.json`), 502, 'ERR_SIGNATURE_INVALID', '1.0.0.json');
    assertJsonError(await h.get(zipPath(z, 'badsig')), 502, 'ERR_SIGNATURE_INVALID', 'zip');
    await h.settle();
    assert.equal(await h.app.store.stat(sumsKey), undefined, 'no SHA256SUMS bundle cached');
    assert.equal(await h.app.store.stat(zipKey(z, 'badsig')), undefined, 'no zip cached');
    assert.equal(h.origin.count((p) => p.endsWith(fileName(z, 'badsig'))), 0, 'zip never fetched without a verified checksum');

    h.origin.clearFaults();
    const doc = jsonOf<{ archives: Record<string, { hashes: string[] }> }>(await h.get(`${base}/1.0.0.json`));
    assert.deepEqual(Object.keys(doc.archives).sort(), ['darwin_arm64', 'linux_amd64']);
    assert.ok(await h.app.store.stat(sumsKey), 'bundle cached once verified');
    await assertRecovers(z, 'badsig');
  });
});
