/**
 * The npm mode on the S3 store (a real S3-protocol server on loopback) with
 * two regcache replicas sharing one bucket prefix and coordinating through
 * Redis: cold installs through either download each tarball once across
 * the fleet, what one replica cached the other serves with no upstream
 * tarball request, and both install with upstream down.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_NPM_PACKAGES, generateNpmPackages, startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import { startRedisServer, type RedisServer } from '../../fakes/redis-server.js';
import { s3Storage, TEST_BUCKET } from '../../fakes/s3-harness.js';
import { startS3Server, type S3Server } from '../../fakes/s3-server.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { installed, makeProject, npm, startNpmCache } from './support.js';

const DEPS = { 'chain-a': '^1.0.0', '@acme/widget': '^2.0.0', 'old-sha1': '*' };
const GENERATED = 12;

void describe('npm mode on S3, two replicas sharing the bucket, coordinated by Redis', { timeout: 300_000 }, () => {
  let o: NpmOrigin;
  let s3: S3Server;
  let redis: RedisServer;
  let a: RegcacheProcess;
  let b: RegcacheProcess;
  const replica = async (): Promise<RegcacheProcess> => {
    const dir = await mkdtemp(join(tmpdir(), 'regcache-npm-s3-'));
    return startNpmCache(o, {}, {
      storage: s3Storage(join(dir, 'data'), s3.endpoint, 'npm-fleet/'),
      coordination: { redis: { url: redis.url } },
    });
  };
  before(async () => {
    o = await startNpmOrigin({ tls: true, packages: [...DEFAULT_NPM_PACKAGES, ...generateNpmPackages(GENERATED, 'fleet')] });
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

  void it('cold through replica A, warm through replica B with no upstream tarball request', async () => {
    const cold = await makeProject(DEPS);
    const r = await npm(cold, `${a.url}/npm/`, ['install']);
    assert.equal(r.code, 0, r.stderr);
    const tarballs = o.tarballRequests();
    assert.equal(tarballs, 5);
    const warm = await makeProject(DEPS);
    const w = await npm(warm, `${b.url}/npm/`, ['install']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal((await installed(warm, 'chain-c')).version, '1.0.0');
    assert.equal(o.tarballRequests(), tarballs, 'replica B served what A cached');
  });

  void it('parallel cold installs through both replicas download each tarball once across the fleet', async () => {
    const projects = await Promise.all(Array.from({ length: 4 }, () => makeProject({ 'fleet-000': '^1.0.0' })));
    const runs = await Promise.all(projects.map((dir, i) => npm(dir, `${(i % 2 === 0 ? a : b).url}/npm/`, ['install'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    for (const v of o.allVersions().filter((x) => x.name.startsWith('fleet-'))) assert.equal(o.count(v.path), 1, v.path);
  });

  void it('upstream down: both replicas install from the shared cache', async () => {
    await o.down();
    try {
      for (const r of [a, b]) {
        const project = await makeProject({ ...DEPS, 'fleet-000': '^1.0.0' });
        const run = await npm(project, `${r.url}/npm/`, ['install']);
        assert.equal(run.code, 0, run.stderr);
        assert.equal((await installed(project, `fleet-${String(GENERATED - 1).padStart(3, '0')}`)).version, '1.0.0');
      }
    } finally {
      await o.up();
    }
  });
});
