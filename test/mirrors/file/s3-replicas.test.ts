/**
 * The `file` mode on the S3 store (a real S3-protocol server on loopback)
 * with two regcache replicas sharing one bucket prefix: the same cold /
 * warm / offline behaviour as on the filesystem, and what one replica
 * cached the other serves with no upstream request. The mode is the same
 * code; only the storage section of the config differs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import { s3Storage, TEST_BUCKET } from '../../fakes/s3-harness.js';
import { startS3Server, type S3Server } from '../../fakes/s3-server.js';
import { rawRequest, assertJsonError } from '../../integration/http-client.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { bytes, curl, curlHead, metricsOf, metricSum, startFileCache, wget } from './support.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let o: FileOrigin;
let s3: S3Server;
let a: RegcacheProcess;
let b: RegcacheProcess;

async function replica(): Promise<RegcacheProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-file-s3-'));
  return startFileCache(
    {
      upstreams: [o.url],
      default_policy: 'immutable',
      rules: [{ match: 'live/**', policy: 'revalidate', fresh_for: '0s', busy_policy: 'stale' }],
    },
    {
      storage: s3Storage(join(dir, 'data'), s3.endpoint, 'files-fleet/'),
    },
    { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  );
}

void describe('file mode on S3, two replicas sharing the bucket', { timeout: 120_000 }, () => {
  before(async () => {
    o = await startFileOrigin();
    s3 = await startS3Server({ buckets: [TEST_BUCKET] });
    a = await replica();
    b = await replica();
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await s3?.close();
    await o?.close();
  });

  void it('cold through replica A, warm through replica B with no upstream request', async () => {
    const body = bytes(2_000_000, 1);
    o.put('/rel/v1/tool.tar.gz', body);
    const cold = await curl('-f', `${a.url}/files/rel/v1/tool.tar.gz`);
    assert.equal(sha(cold.stdout), sha(body));
    const warm = await wget(`${b.url}/files/rel/v1/tool.tar.gz`);
    assert.equal(warm.file && sha(warm.file), sha(body), warm.stderr);
    const part = await curlHead('-r', '100-199', `${b.url}/files/rel/v1/tool.tar.gz`);
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(body.subarray(100, 200)));
    assert.equal(o.count('/rel/v1/tool.tar.gz'), 1, 'one upstream GET for both replicas');
  });

  void it('revalidation on S3: a 304 seen by either replica renews the shared copy', async () => {
    const doc = bytes(5000, 2);
    o.put('/live/index.json', doc);
    assert.ok((await curl('-f', `${a.url}/files/live/index.json`)).stdout.equals(doc));
    const m0 = metricSum(await metricsOf(b), 'regcache_revalidations_total', { result: 'not_modified' });
    assert.ok((await curl('-f', `${b.url}/files/live/index.json`)).stdout.equals(doc));
    assert.deepEqual(o.conditional('/live/index.json'), { asked: 1, notModified: 1 });
    assert.equal(metricSum(await metricsOf(b), 'regcache_revalidations_total', { result: 'not_modified' }) - m0, 1);
    assert.equal(o.count('/live/index.json'), 2, 'one full GET, one conditional');
  });

  void it('upstream down: both replicas serve what either cached; an uncached file is a 502 JSON error', async () => {
    const body = bytes(300_000, 3);
    o.put('/rel/v2/tool.zip', body);
    o.put('/live/latest.txt', Buffer.from('1.2.3\n'));
    assert.ok((await curl('-f', `${b.url}/files/rel/v2/tool.zip`)).stdout.equals(body));
    assert.ok((await curl('-f', `${a.url}/files/live/latest.txt`)).stdout.equals(Buffer.from('1.2.3\n')));
    await o.down();
    try {
      for (const r of [a, b]) {
        assert.ok((await curl('-f', `${r.url}/files/rel/v2/tool.zip`)).stdout.equals(body));
        assert.equal((await curl('-f', `${r.url}/files/live/latest.txt`)).stdout.toString(), '1.2.3\n');
        assertJsonError(await rawRequest(r.url, '/files/rel/v3/tool.zip'), 502, 'ERR_UPSTREAM_UNREACHABLE', 'uncached, upstream down');
      }
    } finally {
      await o.up();
    }
  });
});
