/**
 * The `pypi` mode on the S3 store (a real S3-protocol server on loopback)
 * with two regcache replicas sharing one bucket prefix and coordinating
 * through Redis: parallel cold pip installs through both replicas download
 * each file once across the fleet, a warm install through either makes no
 * upstream file request, what one replica cached the other serves, and
 * with the origin down both still install from the shared store.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPypiOrigin, type PypiOrigin } from '../../fakes/pypi-origin.js';
import { startRedisServer, type RedisServer } from '../../fakes/redis-server.js';
import { s3Storage, TEST_BUCKET } from '../../fakes/s3-harness.js';
import { startS3Server, type S3Server } from '../../fakes/s3-server.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { startRegcache } from '../../support/regcache-process.js';
import { installedVersion, pipInstall } from './support.js';

let origin: PypiOrigin;
let s3: S3Server;
let redis: RedisServer;
let a: RegcacheProcess;
let b: RegcacheProcess;

async function replica(): Promise<RegcacheProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-pypi-s3-'));
  return startRegcache(
    {
      storage: s3Storage(join(dir, 'data'), s3.endpoint, 'pypi-fleet/'),
      coordination: { redis: { url: redis.url } },
      instances: [{ name: 'pypi', pypi: { route: { path: '/pypi' }, upstream: origin.indexUrl } }],
    },
    { NODE_EXTRA_CA_CERTS: origin.caFile, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  );
}

void describe('pypi mode on S3, two replicas sharing the bucket (coordination.redis)', { timeout: 300_000 }, () => {
  before(async () => {
    origin = await startPypiOrigin();
    await origin.publish('fleet-top', '1.0.0', ['fleet-mid']);
    await origin.publish('fleet-mid', '1.0.0', ['fleet-leaf']);
    await origin.publish('fleet-leaf', '1.0.0');
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
    await origin?.close();
  });

  void it('parallel cold installs through both replicas download each file once across the fleet', async () => {
    origin.fault('files', '/packages/', { kind: 'slow', ms: 400 });
    try {
      const runs = await Promise.all([a, b, a, b].map((p) => pipInstall(p, ['fleet-top'])));
      for (const r of runs) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await installedVersion(r.target, 'fleet_leaf'), '1.0.0');
      }
    } finally {
      origin.fault('files', '/packages/', undefined);
    }
    const wheels = origin.requests.filter((q) => q.host === 'files' && q.path.endsWith('.whl'));
    assert.equal(wheels.length, 3, wheels.map((w) => w.path).join('\n'));
  });

  void it('warm installs through either replica make no upstream file request', async () => {
    const files = origin.countPrefix('files', '/');
    for (const p of [a, b]) {
      const r = await pipInstall(p, ['fleet-top']);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(origin.countPrefix('files', '/'), files);
  });

  void it('what replica A cached, replica B serves; with the origin down both install from the store', async () => {
    await origin.publish('only-a', '1.0.0');
    const cold = await pipInstall(a, ['only-a']);
    assert.equal(cold.code, 0, cold.stderr);
    const files = origin.countPrefix('files', '/');
    await origin.down();
    try {
      for (const p of [b, a]) {
        const r = await pipInstall(p, ['only-a', 'fleet-top']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await installedVersion(r.target, 'only_a'), '1.0.0');
      }
    } finally {
      await origin.up();
    }
    assert.equal(origin.countPrefix('files', '/'), files);
  });
});
