/**
 * Fleet-wide single-flight: two regcache processes sharing one cache, with
 * a real redis-server for coordination, download each cold artifact from
 * upstream exactly once; with Redis unreachable they still serve (each
 * filling on its own).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpsRequest } from '../fakes/https-request.js';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRedisServer, type RedisServer } from '../fakes/redis-server.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';

const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');
const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];

let origin: OriginRegistry;
let redis: RedisServer;
const procs: RegcacheProcess[] = [];

async function pair(redisUrl: string, workers = 1): Promise<[RegcacheProcess, RegcacheProcess]> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-fleet-'));
  const config = {
    server: { workers },
    storage: { path: join(dir, 'data') },
    terraform: { upstreams: [{ host: 'registry.terraform.io', url: origin.url }] },
    coordination: { redis: { url: redisUrl } },
  };
  const a = await startRegcache(config, { NODE_EXTRA_CA_CERTS: origin.caFile });
  const b = await startRegcache(config, { NODE_EXTRA_CA_CERTS: origin.caFile });
  procs.push(a, b);
  return [a, b];
}

async function hammer(a: RegcacheProcess, b: RegcacheProcess, type: string): Promise<void> {
  const ca = await readFile(a.caPath ?? '', 'utf8');
  const requests = PLATFORMS.flatMap((p) =>
    Array.from({ length: 8 }, (_, i) => {
      const path = `/v1/mirror/registry.terraform.io/hashicorp/${type}/1.0.0/${p.os}_${p.arch}/terraform-provider-${type}_1.0.0_${p.os}_${p.arch}.zip`;
      return httpsRequest(`${(i % 2 === 0 ? a : b).url}${path}`, { ca }).then((r) => ({ r, p }));
    }),
  );
  for (const { r, p } of await Promise.all(requests)) {
    assert.equal(r.status, 200);
    assert.equal(sha(r.body), sha(origin.zipBytes('hashicorp', type, '1.0.0', p.os, p.arch)));
  }
}

void describe('e2e: fleet-wide single-flight with Redis', () => {
  before(async () => {
    origin = await startOriginRegistry({ bytesPerSecond: 10_000_000 });
    redis = await startRedisServer();
    for (const type of ['coord', 'nocoord', 'workers']) {
      await origin.addProvider({ namespace: 'hashicorp', type, versions: [{ version: '1.0.0', platforms: PLATFORMS, extraBytes: 2_000_000 }] });
    }
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await redis?.stop();
    await origin?.stop();
  });

  void it('two replicas download each cold artifact exactly once', async () => {
    const [a, b] = await pair(redis.url);
    await hammer(a, b, 'coord');
    for (const p of PLATFORMS) {
      assert.equal(origin.count((x) => x.endsWith(`coord_1.0.0_${p.os}_${p.arch}.zip`) && !x.includes('nocoord'), 'GET'), 1, `${p.os}_${p.arch}`);
    }
  });

  void it('two replicas of two worker processes each still download each cold artifact exactly once', async () => {
    const [a, b] = await pair(redis.url, 2);
    await hammer(a, b, 'workers');
    for (const p of PLATFORMS) {
      assert.equal(origin.count((x) => x.endsWith(`workers_1.0.0_${p.os}_${p.arch}.zip`), 'GET'), 1, `${p.os}_${p.arch}`);
    }
    // All four workers took requests (request lines are written as responses end: wait for all 16).
    const lines = (): Array<Record<string, unknown>> => [a, b].flatMap((r, i) => r.logs.filter((l) => l.msg === 'request' && String(l.path).includes('workers_1.0.0')).map((l) => ({ ...l, replica: i })));
    for (let i = 0; i < 500 && lines().length < 16; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(lines().length, 16);
    const served = new Set(lines().map((l) => `${String(l.replica)}:${String(l.worker)}`));
    assert.equal(served.size, 4, [...served].join(' '));
  });

  void it('with Redis unreachable, both replicas still serve intact artifacts', async (t) => {
    const dead = await startRedisServer();
    const url = dead.url;
    await dead.stop();
    const [a, b] = await pair(url);
    await hammer(a, b, 'nocoord');
    for (const p of PLATFORMS) {
      const n = origin.count((x) => x.endsWith(`nocoord_1.0.0_${p.os}_${p.arch}.zip`), 'GET');
      t.diagnostic(`without coordination: ${n} upstream download(s) of ${p.os}_${p.arch} for 8 requests over 2 replicas`);
      assert.ok(n >= 1 && n <= 2, `at most one download per replica, saw ${n}`);
    }
  });
});
