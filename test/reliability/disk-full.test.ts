/**
 * A full disk, for real: regcache's storage path is a 2 MiB tmpfs. A cold
 * download bigger than the space fails cleanly (503 JSON, or a transfer cut
 * before its unverified tail), leaves nothing partial and gives the space
 * back; while the disk is full /ready answers 503 and warm content is still
 * served; once space is freed (file removed, then the tmpfs enlarged) the
 * same downloads succeed byte-identical. Needs mount(2) (root in a sandbox
 * that allows it); where that is refused the test is skipped, saying why.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HOLDBACK } from '../../src/core/fill.js';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { assertJsonError, rawRequest, type RawResponse } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { auditStore, metricOf, report, sha256, stopAndClean, until } from './support.js';

const run = promisify(execFile);
const HOST = 'registry.terraform.io';
const BIG_EXTRA = 3_000_000;
const MID_EXTRA = 600_000;
const PROBES = 20;

const zipPath = (type: string, platform: string): string =>
  `/v1/mirror/${HOST}/acme/${type}/1.0.0/${platform}/terraform-provider-${type}_1.0.0_${platform}.zip`;
const zipKey = (type: string, platform: string): string => `tf/providers/${HOST}/acme/${type}/1.0.0/${platform}/zip`;

void describe('reliability: storage full (tmpfs)', () => {
  let origin: OriginRegistry;
  let dir = '';
  let mnt = '';
  let mounted = false;
  let skipReason = '';
  let p: RegcacheProcess | undefined;
  let tried = 0;
  let bigOutcome = '';

  const get = async (path: string): Promise<RawResponse> => {
    if (!p) throw new Error('regcache not running');
    tried++;
    return rawRequest(p.url, path);
  };
  const free = async (): Promise<number> => {
    const s = await statfs(mnt);
    return s.bavail * s.bsize;
  };
  const settled = async (): Promise<void> => {
    await until(async () => {
      const m = await get('/metrics');
      return metricOf(m.body.toString('utf8'), 'regcache_fills_in_flight') === 0;
    }, 'no fill in flight');
  };
  const tmpEntries = (): Promise<string[]> => readdir(join(mnt, 'cache', 'tmp')).catch(() => []);
  /** Temp files of downloads (the readiness probe's own leftovers are judged by their own test). */
  const dataTemps = async (): Promise<string[]> => (await tmpEntries()).filter((n) => !n.includes('-ready-'));
  const fdsOf = (): number => readdirSync(`/proc/${p?.child.pid ?? 0}/fd`).length;

  before(async () => {
    origin = await startOriginRegistry();
    const one = [{ os: 'linux', arch: 'amd64' }];
    await origin.addProvider({ namespace: 'acme', type: 'big', versions: [{ version: '1.0.0', platforms: one, extraBytes: BIG_EXTRA }] });
    await origin.addProvider({ namespace: 'acme', type: 'mid', versions: [{ version: '1.0.0', platforms: one, extraBytes: MID_EXTRA }] });
    await origin.addProvider({ namespace: 'acme', type: 'small', versions: [{ version: '1.0.0', platforms: [...one, { os: 'darwin', arch: 'arm64' }] }] });
    dir = await mkdtemp(join(tmpdir(), 'regcache-full-'));
    mnt = join(dir, 'mnt');
    await mkdir(mnt);
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', mnt]);
      mounted = true;
    } catch (err) {
      skipReason = `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0] ?? ''}); a loop device would need the same privilege`;
      return;
    }
    p = await startRegcache(
      { server: { tls: false }, storage: { path: mnt }, terraform: { upstreams: [{ host: HOST, url: origin.url }] } },
      { NODE_EXTRA_CA_CERTS: origin.caFile },
    );
  });

  after(async () => {
    await stopAndClean(p);
    if (mounted) await run('umount', [mnt]).catch(() => run('umount', ['-l', mnt]));
    await origin?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    report('disk-full', { mounted, requests: tried, bigOutcome, ...(skipReason ? { skipReason } : {}) });
  });

  void it('a cold zip larger than the disk fails cleanly, leaves nothing partial and gives the space back; the server stays up', async (t) => {
    if (!mounted) return t.skip(skipReason);
    const warm = await get(zipPath('small', 'darwin_arm64'));
    assert.equal(warm.status, 200, 'a small zip fits');
    await settled();
    const freeBefore = await free();
    assert.ok(freeBefore < BIG_EXTRA, `the disk (${freeBefore} bytes free) is smaller than the download`);

    const res = await get(zipPath('big', 'linux_amd64'));
    const size = origin.zipBytes('acme', 'big', '1.0.0', 'linux', 'amd64').length;
    bigOutcome = res.status === 200 ? `200 cut after ${res.body.length} of ${size} bytes` : `${res.status} ${res.body.toString('utf8').slice(0, 120)}`;
    if (res.status === 200) {
      assert.ok(!res.complete, 'a transfer that already started is cut, never completed');
      assert.ok(res.body.length <= size - HOLDBACK, 'the unverified tail was never released');
      assert.ok(res.body.equals(origin.zipBytes('acme', 'big', '1.0.0', 'linux', 'amd64').subarray(0, res.body.length)), 'what was sent is a true prefix');
    } else {
      assertJsonError(res, 503, 'ERR_STORAGE_UNAVAILABLE', 'cold zip on a full disk');
    }
    await settled();
    assert.ok(
      p?.logs.some((l) => l.msg === 'fill failed, nothing committed' && l.key === zipKey('big', 'linux_amd64') && l.code === 'ERR_STORAGE_UNAVAILABLE'),
      'fill failure logged with ERR_STORAGE_UNAVAILABLE',
    );
    await until(async () => (await dataTemps()).length === 0, 'temp file removed');
    const audit = await auditStore(join(mnt, 'cache'));
    assert.equal(audit.sha.has(zipKey('big', 'linux_amd64')), false, 'nothing committed');
    assert.deepEqual(audit.corrupt, []);
    assert.ok((await free()) >= freeBefore - 64 * 1024, 'the space taken by the failed download was given back');
    assert.equal((await get('/health')).status, 200);
    assert.equal(p?.child.exitCode, null, 'still running');
  });

  void it('while the disk is full: /ready 503, a cold zip 503, warm content still served, health 200', async (t) => {
    if (!mounted) return t.skip(skipReason);
    const filler = await open(join(mnt, 'filler'), 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) await filler.write(chunk);
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC', 'filled until ENOSPC');
    } finally {
      await filler.close();
    }
    assertJsonError(await get('/ready'), 503, 'ERR_STORAGE_UNAVAILABLE', '/ready on a full disk');
    assert.equal((await get('/health')).status, 200, 'liveness is not readiness');
    assertJsonError(await get(zipPath('small', 'linux_amd64')), 503, 'ERR_STORAGE_UNAVAILABLE', 'cold small zip on a full disk');
    const warm = await get(zipPath('small', 'darwin_arm64'));
    assert.equal(warm.status, 200, 'warm zip served from the full disk');
    assert.equal(sha256(warm.body), sha256(origin.zipBytes('acme', 'small', '1.0.0', 'darwin', 'arm64')));
    await settled();
    assert.deepEqual(await dataTemps(), [], 'no partial download file while full');
  });

  void it('repeated /ready probes on the full disk leave neither probe files nor open descriptors behind', async (t) => {
    if (!mounted) return t.skip(skipReason);
    const before = fdsOf();
    for (let i = 0; i < PROBES; i++) assertJsonError(await get('/ready'), 503, 'ERR_STORAGE_UNAVAILABLE', `/ready probe ${i}`);
    const probes = (await tmpEntries()).filter((n) => n.includes('-ready-'));
    const grown = fdsOf() - before;
    assert.ok(probes.length === 0 && grown < PROBES / 2, `${PROBES} failed readiness probes left ${probes.length} files in cache/tmp and grew the open descriptors by ${grown}`);
  });

  void it('after freeing space: /ready 200 and the zips that failed are served whole and committed', async (t) => {
    if (!mounted) return t.skip(skipReason);
    await rm(join(mnt, 'filler'));
    const ready = await get('/ready');
    assert.equal(ready.status, 200, ready.body.toString('utf8'));
    for (const [type, platform] of [['small', 'linux_amd64'], ['mid', 'linux_amd64']] as const) {
      const res = await get(zipPath(type, platform));
      assert.equal(res.status, 200, res.body.toString('utf8').slice(0, 200));
      assert.ok(res.complete && res.body.equals(origin.zipBytes('acme', type, '1.0.0', 'linux', 'amd64')), `${type} byte-identical`);
    }
    // Enlarging the filesystem frees enough for the download that never fitted.
    await run('mount', ['-o', 'remount,size=16m', mnt]);
    const big = await get(zipPath('big', 'linux_amd64'));
    assert.equal(big.status, 200);
    assert.ok(big.complete && big.body.equals(origin.zipBytes('acme', 'big', '1.0.0', 'linux', 'amd64')), 'big zip byte-identical');
    await settled();
    await until(async () => (await dataTemps()).length === 0, 'download temp files gone');
    const audit = await auditStore(join(mnt, 'cache'));
    assert.deepEqual(audit.corrupt, []);
    for (const type of ['small', 'mid', 'big']) assert.ok(audit.sha.has(zipKey(type, 'linux_amd64')), `${type} committed`);
    assert.equal(p?.child.exitCode, null, 'the same process served throughout');
  });
});
