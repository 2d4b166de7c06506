/**
 * Zip bombs from a hostile (or compromised) upstream, against the built CLI:
 * the registry signs a provider zip that is a bomb, so it passes the
 * SHA256SUMS check and is stored; computing its `h1:` hash is the attack.
 * Each bomb must fail `{version}.json` with a clear error, cost CPU once
 * (the failure is remembered), and a SIGTERM while a large zip is being
 * hashed must abort the hash instead of waiting for it.
 *
 * CPU-seconds are read from /proc/<pid>/stat of the regcache process and
 * reported (RELIABILITY lines), never asserted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { rawRequest, type RawResponse } from '../integration/http-client.js';
import { listTree } from '../support/file-tree.js';
import { makeZip } from '../support/provider-fixtures.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { buildZip, lyingSizeBomb, manyZerosZip, overlapBomb } from '../support/zip-bombs.js';
import { report, sha256, stopAndClean, until } from './support.js';

const HOST = 'registry.terraform.io';
const MiB = 1024 * 1024;
const PLATFORM = { os: 'linux', arch: 'amd64' };

/** User+system CPU seconds of a process so far (Linux). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const zipPath = (type: string): string => `/v1/mirror/${HOST}/acme/${type}/1.0.0/linux_amd64/terraform-provider-${type}_1.0.0_linux_amd64.zip`;
const versionPath = (type: string): string => `/v1/mirror/${HOST}/acme/${type}/1.0.0.json`;
const errorOf = (r: RawResponse): string => {
  const body = JSON.parse(r.body.toString('utf8')) as { errors?: string[] };
  return body.errors?.[0] ?? '';
};

/** The bombs served as signed provider zips, and what the refusal must say. */
interface Bomb {
  type: string;
  zip: Buffer;
  reason: RegExp;
}

async function bombs(): Promise<Bomb[]> {
  const wrongCrc = buildZip([{ name: 'bin', data: Buffer.alloc(8 * MiB, 7), uncompressedSize: 8 * MiB, crc32: 0x12345678, method: 'store' }]);
  return [
    // 1024 directory entries over one 1 MiB kernel (small enough for any ratio): 1 GiB inflated from 53 KiB.
    { type: 'overlap', zip: overlapBomb(MiB, 1024), reason: /overlap/ },
    // The same with 8192 entries: 8 GiB inflated from 417 KiB.
    { type: 'huge', zip: overlapBomb(MiB, 8192), reason: /2 GiB/ },
    // A plain yazl zip of 4 × 64 MiB zeros: about 1030:1 per entry.
    { type: 'ratio', zip: await makeZip(Array.from({ length: 4 }, (_, i) => ({ name: `z${i}`, content: Buffer.alloc(64 * MiB) }))), reason: /ratio/ },
    // Claims 1 KiB, inflates to 256 MiB.
    { type: 'lying', zip: lyingSizeBomb(256 * MiB, 1024), reason: /size/ },
    { type: 'crc', zip: wrongCrc, reason: /CRC/ },
  ];
}

void describe('reliability: zip bombs', () => {
  let origin: OriginRegistry;
  let p: RegcacheProcess;
  let list: Bomb[] = [];

  before(async () => {
    origin = await startOriginRegistry();
    list = await bombs();
    await origin.addProvider({ namespace: 'acme', type: 'plain', versions: [{ version: '1.0.0', platforms: [PLATFORM] }] });
    for (const b of list) {
      await origin.addProvider({ namespace: 'acme', type: b.type, versions: [{ version: '1.0.0', platforms: [PLATFORM], zip: b.zip }] });
    }
    p = await startRegcache({ server: { tls: false }, terraform: { upstreams: [{ host: HOST, url: origin.url }] } }, { NODE_EXTRA_CA_CERTS: origin.caFile });
  });
  after(async () => {
    await stopAndClean(p);
    await origin?.stop();
  });

  void it('a normal provider still gets its h1 (and warms the process up before CPU is measured)', async () => {
    assert.equal((await rawRequest(p.url, zipPath('plain'))).status, 200);
    await until(async () => /"h1:/.test((await rawRequest(p.url, versionPath('plain'))).body.toString('utf8')), 'the h1 of a normal zip');
  });

  void it('each bomb fails {version}.json with a clear error, once, at bounded cost', async () => {
    for (const b of list) {
      const cpu0 = cpuSeconds(p.child.pid);
      const zip = await rawRequest(p.url, zipPath(b.type));
      const first = await rawRequest(p.url, versionPath(b.type));
      const cpu1 = cpuSeconds(p.child.pid);
      const second = await rawRequest(p.url, versionPath(b.type));
      const cpu2 = cpuSeconds(p.child.pid);
      report(`zip bomb ${b.type}`, {
        zipBytes: b.zip.length,
        status: [first.status, second.status],
        cpuSecondsFirst: Number((cpu1 - cpu0).toFixed(2)),
        cpuSecondsSecond: Number((cpu2 - cpu1).toFixed(2)),
        errors: [first, second].map((r) => (r.status === 200 ? '' : errorOf(r))),
      });
      assert.equal(zip.status, 200, `${b.type}: the signed zip itself is served`);
      assert.equal(sha256(zip.body), sha256(b.zip));
      assert.equal(first.status, 502, `${b.type}: ${first.body.toString('utf8').slice(0, 300)}`);
      assert.match(errorOf(first), b.reason, `${b.type}: the error says why`);
      assert.equal(second.status, 502);
      assert.match(errorOf(second), /earlier/, `${b.type}: the second request reuses the remembered failure instead of hashing again`);
    }
  });
});

void describe('reliability: SIGTERM while hashing', () => {
  let origin: OriginRegistry;
  let p: RegcacheProcess | undefined;

  before(async () => {
    origin = await startOriginRegistry();
    // 8 separate entries of 2 GiB zeros (16 GiB inflated, 16 MiB zipped): a zip that is slow to hash but breaks no rule
    // once this instance allows the ratio of zeros and a 64 GiB total.
    const zip = manyZerosZip(8, 64 * MiB, 32);
    await origin.addProvider({ namespace: 'acme', type: 'heavy', versions: [{ version: '1.0.0', platforms: [PLATFORM], zip }] });
    p = await startRegcache(
      {
        server: { tls: false, shutdownTimeout: '2s' },
        terraform: { upstreams: [{ host: HOST, url: origin.url }], limits: { maxInflatedBytes: '64GiB', maxRatio: 2000 } },
      },
      { NODE_EXTRA_CA_CERTS: origin.caFile },
    );
  });
  after(async () => {
    await stopAndClean(p);
    await origin?.stop();
  });

  void it('aborts the hash and exits; no h1 is stored', async () => {
    const proc = p;
    assert.ok(proc);
    const zip = await rawRequest(proc.url, zipPath('heavy'));
    assert.equal(zip.status, 200);
    // The hash starts once the download's client is served; a {version}.json request waits for it.
    const pending = rawRequest(proc.url, versionPath('heavy')).then(
      (r) => r.status,
      () => 'closed',
    );
    const cpuStart = cpuSeconds(proc.child.pid);
    await until(() => cpuSeconds(proc.child.pid) - cpuStart >= 1, 'regcache busy hashing', 60_000);
    const signalledAt = Date.now();
    const code = await proc.stop('SIGTERM');
    const exitSeconds = (Date.now() - signalledAt) / 1000;
    const answered = await pending;
    const h1Objects = (await listTree(`${proc.dataDir}/cache/objects`)).filter((f) => f.includes('/heavy/') && f.endsWith('/h1~obj'));
    report('SIGTERM while hashing', { exitSeconds: Number(exitSeconds.toFixed(2)), shutdownTimeout: '2s', pendingRequest: answered, h1Stored: h1Objects.length });
    assert.equal(code, 0, proc.output().slice(-2000));
    assert.deepEqual(h1Objects, [], 'the aborted hash stored nothing');
  });
});
