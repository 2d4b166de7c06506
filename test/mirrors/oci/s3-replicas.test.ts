/**
 * The `oci` mode on the S3 store (a real S3-protocol server on loopback)
 * with two regcache replicas sharing one bucket prefix: a cold pull through
 * replica A, a warm pull through replica B with no upstream blob or
 * manifest GET, and with the upstream down a pull through B served from
 * the shared store (the tag stale within policy).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { s3Storage, TEST_BUCKET } from '../../fakes/s3-harness.js';
import { startS3Server, type S3Server } from '../../fakes/s3-server.js';
import type { Layout } from '../../fakes/oci-layout.js';
import { counts, inspectRaw, pull, startOciCache, startUpstream, type OciCache, type Upstream } from './support.js';

const sha = (b: string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let up: Upstream;
let s3: S3Server;
let a: OciCache;
let b: OciCache;
let image: Layout;

async function replica(): Promise<OciCache> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-oci-s3-'));
  return startOciCache(
    up.relay.url,
    { default_policy: 'revalidate', fresh_for: '0s', busy_policy: 'stale' },
    { storage: s3Storage(join(dir, 'data'), s3.endpoint, 'oci-fleet/') },
    { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  );
}

void describe('oci mode on S3, two replicas sharing the bucket', { timeout: 300_000 }, () => {
  before(async () => {
    up = await startUpstream();
    s3 = await startS3Server({ buckets: [TEST_BUCKET] });
    a = await replica();
    b = await replica();
    image = await up.push('library/fleet', 'v1', [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }], 'fleet', 500_000);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await s3?.close();
    await up?.close();
  });

  void it('cold through replica A, warm through replica B with 0 upstream blob GETs', async () => {
    const cold = await pull(a.host, 'library/fleet:v1');
    assert.equal(cold.code, 0, cold.stderr);
    const c0 = counts(up.relay, 'library/fleet');
    assert.equal(c0.blobGet, 6);
    const warm = await pull(b.host, 'library/fleet:v1');
    assert.equal(warm.code, 0, warm.stderr);
    const c1 = counts(up.relay, 'library/fleet');
    assert.equal(c1.blobGet - c0.blobGet, 0, 'no blob GET');
    assert.equal(c1.manifestGet - c0.manifestGet, 0, 'no manifest GET (the tag revalidated with HEAD only)');
    for (const img of image.images) {
      for (const l of img.layers) {
        const got = await readFile(join(warm.dir, 'blobs', 'sha256', l.digest.slice('sha256:'.length)));
        assert.ok(got.equals(l.bytes), `layer ${l.digest} identical`);
      }
    }
  });

  void it('with the upstream down, replica B serves the pull from the shared store', async () => {
    up.relay.down = true;
    try {
      const off = await pull(b.host, 'library/fleet:v1');
      assert.equal(off.code, 0, off.stderr);
      const raw = await inspectRaw(a.host, 'library/fleet:v1');
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(sha(raw.stdout), image.top);
    } finally {
      up.relay.down = false;
    }
  });
});
