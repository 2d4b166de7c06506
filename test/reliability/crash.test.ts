/**
 * Crash safety: regcache (the built CLI, a child process) in front of a
 * throttled origin serving multi-MB zips is SIGKILLed at a random moment
 * while several clients pull cold and warm zips, then restarted on the same
 * storage directory, round after round. Every byte any client received must
 * be a byte of the right zip (complete answers hash right, cut ones are a
 * true prefix), the killed writer's temp files must be gone once the next
 * process listens, and every object file on disk must read back whole and
 * hash to its recorded sha256 (and, for zips, to the origin's bytes).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { rawRequest } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { auditStore, createRng, report, seedFor, sha256, stopAndClean, tempsNotOf, until } from './support.js';

const ROUNDS = Number(process.env.RELIABILITY_CRASH_ROUNDS ?? 20);
const CLIENTS = 4;
const HOST = 'registry.terraform.io';
const VERSIONS = ['1.0.0', '1.1.0'];
const PLATFORMS = ['linux_amd64', 'darwin_arm64', 'windows_amd64'];
const ZIP_EXTRA = 2_500_000;
const MAX_KILL_DELAY_MS = 1_500;

interface Zip {
  version: string;
  platform: string;
  path: string;
  key: string;
  bytes: Buffer;
  sha: string;
}

/** What the clients and checks did, summed over all rounds. */
interface Tally {
  rounds: number;
  requests: number;
  complete: number;
  cut: number;
  resetByKill: number;
  unexpected: string[];
  bytesVerified: number;
  orphanTempsAtKill: number;
  roundsWithOrphans: number;
  objectsAudited: number;
  objectBytesAudited: number;
  zipsDeletedBetweenRounds: number;
}

void describe('reliability: SIGKILL at random points, restart on the same storage', () => {
  let origin: OriginRegistry;
  let root: string;
  let current: RegcacheProcess | undefined;
  const zips: Zip[] = [];
  const seed = seedFor('crash');
  const tally: Tally = {
    rounds: 0,
    requests: 0,
    complete: 0,
    cut: 0,
    resetByKill: 0,
    unexpected: [],
    bytesVerified: 0,
    orphanTempsAtKill: 0,
    roundsWithOrphans: 0,
    objectsAudited: 0,
    objectBytesAudited: 0,
    zipsDeletedBetweenRounds: 0,
  };

  const cacheRoot = (): string => join(root, 'data', 'cache');
  const start = (): Promise<RegcacheProcess> =>
    startRegcache(
      {
        server: { tls: false, shutdownTimeout: '2s' },
        storage: { path: join(root, 'data') },
        terraform: { upstreams: [{ host: HOST, url: origin.url }] },
        upstream: { bodyTimeout: '10s' },
      },
      { NODE_EXTRA_CA_CERTS: origin.caFile },
    );

  before(async () => {
    origin = await startOriginRegistry({ bytesPerSecond: 6_000_000 });
    const platforms = PLATFORMS.map((p) => ({ os: p.split('_')[0] ?? '', arch: p.split('_')[1] ?? '' }));
    await origin.addProvider({ namespace: 'acme', type: 'heavy', versions: VERSIONS.map((version) => ({ version, platforms, extraBytes: ZIP_EXTRA })) });
    for (const version of VERSIONS) {
      for (const platform of PLATFORMS) {
        const [os = '', arch = ''] = platform.split('_');
        const bytes = origin.zipBytes('acme', 'heavy', version, os, arch);
        zips.push({
          version,
          platform,
          path: `/v1/mirror/${HOST}/acme/heavy/${version}/${platform}/terraform-provider-heavy_${version}_${platform}.zip`,
          key: `tf/providers/${HOST}/acme/heavy/${version}/${platform}/zip`,
          bytes,
          sha: sha256(bytes),
        });
      }
    }
    root = await mkdtemp(join(tmpdir(), 'regcache-crash-'));
  });

  after(async () => {
    await stopAndClean(current, 'SIGKILL');
    await origin?.stop();
    if (root) await rm(root, { recursive: true, force: true });
    report('crash', { seed, ...tally, unexpected: tally.unexpected.length });
  });

  /** Checks one answer: complete ones hash right, cut ones are a true prefix; counts the bytes proved right. */
  function check(zip: Zip, status: number, body: Buffer, complete: boolean): void {
    if (status !== 200) {
      tally.unexpected.push(`${zip.path} → ${status} ${body.toString('utf8').slice(0, 200)}`);
      return;
    }
    if (complete) {
      assert.equal(sha256(body), zip.sha, `complete answer for ${zip.path} has the origin's sha256`);
      tally.complete++;
    } else {
      assert.ok(body.length < zip.bytes.length, `cut answer shorter than the zip (${body.length})`);
      assert.ok(body.equals(zip.bytes.subarray(0, body.length)), `cut answer for ${zip.path} is a true prefix of the zip`);
      tally.cut++;
    }
    tally.bytesVerified += body.length;
  }

  /** One client: pulls random zips (and a {version}.json now and then) until the process dies. */
  async function client(p: RegcacheProcess, pick: ReturnType<typeof createRng>, killed: () => boolean): Promise<void> {
    while (!killed()) {
      const zip = pick.pick(zips);
      tally.requests++;
      if (pick.chance(0.15)) {
        await versionJson(p, zip, killed);
        continue;
      }
      try {
        const res = await rawRequest(p.url, zip.path);
        if (killed() && res.status !== 200) return;
        check(zip, res.status, res.body, res.complete);
      } catch (err) {
        if (killed()) tally.resetByKill++;
        else tally.unexpected.push(`${zip.path}: ${(err as Error).message}`);
        return;
      }
    }
  }

  /** {version}.json must list the origin's zh: hash for every platform it names. */
  async function versionJson(p: RegcacheProcess, zip: Zip, killed: () => boolean): Promise<void> {
    try {
      const res = await rawRequest(p.url, `/v1/mirror/${HOST}/acme/heavy/${zip.version}.json`);
      if (!res.complete) return;
      if (res.status !== 200) {
        if (!killed()) tally.unexpected.push(`${zip.version}.json → ${res.status}`);
        return;
      }
      const doc = JSON.parse(res.body.toString('utf8')) as { archives: Record<string, { hashes: string[] }> };
      for (const [platform, a] of Object.entries(doc.archives)) {
        const z = zips.find((x) => x.version === zip.version && x.platform === platform);
        assert.ok(z, `unexpected platform ${platform}`);
        assert.ok(a.hashes.includes(`zh:${z.sha}`), `${zip.version}.json carries the right zh: for ${platform}`);
      }
      tally.complete++;
    } catch {
      if (!killed()) tally.unexpected.push(`${zip.version}.json: no answer`);
    }
  }

  void it(`survives ${ROUNDS} SIGKILLs with no corrupt byte served or stored and no orphaned temp file`, { timeout: 240_000 }, async () => {
    const killRng = createRng(seed);
    const pickRng = createRng(seed ^ 0x5bd1e995);
    for (let round = 1; round <= ROUNDS; round++) {
      const p = await start();
      current = p;
      const pid = p.child.pid;
      assert.deepEqual(await tempsNotOf(cacheRoot(), pid), [], `round ${round}: temp files of earlier (killed) processes removed before listening`);

      let dead = false;
      const delay = killRng.int(MAX_KILL_DELAY_MS);
      const clients = Array.from({ length: CLIENTS }, () => client(p, pickRng, () => dead));
      await new Promise((resolve) => setTimeout(resolve, delay));
      dead = true;
      await p.stop('SIGKILL');
      await Promise.all(clients);
      assert.equal(p.child.signalCode, 'SIGKILL', `round ${round}: the process was killed, it did not exit on its own`);
      assert.deepEqual(p.logs.filter((l) => typeof l.level === 'number' && l.level >= 50), [], `round ${round}: no error-level log line before the kill`);
      await stopAndClean(p);
      current = undefined;

      const orphans = (await tempsNotOf(cacheRoot(), undefined)).filter((n) => Number(n.split('-')[0]) === pid);
      tally.orphanTempsAtKill += orphans.length;
      if (orphans.length > 0) tally.roundsWithOrphans++;

      const audit = await auditStore(cacheRoot());
      assert.deepEqual(audit.corrupt, [], `round ${round} (kill after ${delay} ms): no corrupt object file`);
      assert.deepEqual(audit.stray, [], `round ${round}: nothing but object files under objects/`);
      for (const z of zips) {
        const stored = audit.sha.get(z.key);
        if (stored !== undefined) assert.equal(stored, z.sha, `round ${round}: stored ${z.key} is the origin's zip`);
      }
      tally.objectsAudited += audit.objects;
      tally.objectBytesAudited += audit.bytes;

      // Partially warm next round: drop some zips while no process runs.
      for (const z of zips) {
        if (audit.sha.has(z.key) && killRng.chance(0.6)) {
          await unlink(join(cacheRoot(), 'objects', `${z.key}~obj`));
          tally.zipsDeletedBetweenRounds++;
        }
      }
      tally.rounds++;
    }
    assert.deepEqual(tally.unexpected, [], 'no answer other than 200 (whole or cut by the kill)');
    assert.ok(tally.roundsWithOrphans > 0, 'at least one kill left a temp file behind, so start-up cleanup was exercised');
    assert.ok(tally.complete > 0 && tally.cut > 0, 'rounds saw both completed and cut transfers');
  });

  void it('a final clean start serves every zip whole and stores each exactly as the origin published it', async () => {
    const p = await start();
    current = p;
    assert.deepEqual(await tempsNotOf(cacheRoot(), p.child.pid), []);
    const answers = await Promise.all(zips.map((z) => rawRequest(p.url, z.path)));
    answers.forEach((res, i) => {
      const z = zips[i];
      assert.ok(z);
      assert.equal(res.status, 200, res.body.toString('utf8').slice(0, 200));
      assert.ok(res.complete);
      check(z, res.status, res.body, res.complete);
    });
    await until(async () => (await tempsNotOf(cacheRoot(), undefined)).length === 0, 'fills settled');
    await stopAndClean(p);
    current = undefined;
    const audit = await auditStore(cacheRoot());
    assert.deepEqual(audit.corrupt, []);
    for (const z of zips) assert.equal(audit.sha.get(z.key), z.sha, `${z.key} stored intact`);
  });
});
