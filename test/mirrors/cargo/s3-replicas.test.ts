/**
 * The `cargo` mode on the S3 store (a real S3-protocol server on loopback)
 * with two regcache replicas sharing one bucket prefix and coordinating
 * through Redis: parallel cold installs through both replicas cause one
 * upstream download per file across the fleet, what one replica cached the
 * other serves with no upstream request, and both install with the
 * upstream down. The mode is the same code; only the storage and
 * coordination sections of the config differ.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCargoOrigin, type CargoOrigin } from '../../fakes/cargo-origin.js';
import { startRedisServer, type RedisServer } from '../../fakes/redis-server.js';
import { s3Storage, TEST_BUCKET } from '../../fakes/s3-harness.js';
import { startS3Server, type S3Server } from '../../fakes/s3-server.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { cargoProject, install, startCargoCache } from './support.js';

let o: CargoOrigin;
let s3: S3Server;
let redis: RedisServer;
let a: RegcacheProcess;
let b: RegcacheProcess;

const CHAIN = ['leaf@1.0.0', 'mid@1.0.0', 'top@1.0.0'];

async function replica(): Promise<RegcacheProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-cargo-s3-'));
  return startCargoCache(o, {}, {
    storage: s3Storage(join(dir, 'data'), s3.endpoint, 'cargo-fleet/'),
    coordination: { redis: { url: redis.url } },
  });
}

void describe('cargo mode on S3, two replicas with coordination.redis', { timeout: 600_000 }, () => {
  before(async () => {
    o = await startCargoOrigin({ tls: true });
    o.publish('leaf', '1.0.0');
    o.publish('mid', '1.0.0', { deps: [{ name: 'leaf', req: '1' }] });
    o.publish('top', '1.0.0', { deps: [{ name: 'mid', req: '1' }] });
    o.publish('solo', '0.1.0');
    s3 = await startS3Server({ buckets: [TEST_BUCKET] });
    redis = await startRedisServer();
    a = await replica();
    b = await replica();
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    await s3?.close();
    await o?.close();
  });

  void it('parallel cold installs through both replicas: one upstream download per file across the fleet', async () => {
    o.fault('/crates/', { kind: 'slow', bytesPerSecond: 400 });
    try {
      const projects = await Promise.all([a, b, a, b].map((r) => cargoProject(r, { top: '1' })));
      await Promise.all(projects.map((pr) => install(pr)));
      for (const pr of projects) assert.deepEqual(await pr.locked(), CHAIN);
    } finally {
      o.fault('/crates/', undefined);
    }
    for (const name of ['leaf', 'mid', 'top']) {
      assert.equal(o.count('dl', o.dlPath(name, '1.0.0')), 1, `${name}: one download for the fleet`);
      assert.equal(o.count('index', o.indexPath(name)) - o.conditional(o.indexPath(name)).asked, 1, `${name}: one full index GET`);
    }
  });

  void it('cold through replica A, warm through replica B with no upstream request', async () => {
    await install(await cargoProject(a, { solo: '0.1' }));
    assert.equal(o.count('dl', o.dlPath('solo', '0.1.0')), 1);
    const before = o.requests.length;
    const project = await cargoProject(b, { solo: '0.1' });
    await install(project);
    assert.deepEqual(await project.locked(), ['solo@0.1.0']);
    assert.deepEqual(o.requests.slice(before).map((r) => `${r.host} ${r.path}`), []);
  });

  void it('upstream down: both replicas install what either cached', async () => {
    await o.down();
    try {
      for (const r of [a, b]) {
        const project = await cargoProject(r, { top: '1', solo: '0.1' });
        await install(project);
        assert.deepEqual(await project.locked(), [...CHAIN, 'solo@0.1.0'].sort());
      }
    } finally {
      await o.up();
    }
  });
});
