/**
 * Several replicas on one S3 bucket (a real S3-protocol server on loopback):
 * Terraform init through replica A, then through replica B with upstream
 * down; parallel cold requests split across both end with one intact
 * object; with Redis, one upstream download per artifact across the fleet;
 * S3 faults answer 503 and fail /ready until they clear.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCa, issueServerCert } from '../../src/http/self-signed.js';
import { httpsRequest } from '../fakes/https-request.js';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRedisServer, type RedisServer } from '../fakes/redis-server.js';
import { s3Storage, TEST_BUCKET, TEST_CREDENTIALS } from '../fakes/s3-harness.js';
import { startS3Server, type S3Server } from '../fakes/s3-server.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { mainTfFor, networkMirrorCliConfig, runTerraform } from '../support/terraform.js';

const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');
const PLATFORMS = [{ os: 'linux', arch: 'amd64' }];

let origin: OriginRegistry;
let s3: S3Server;
let redis: RedisServer;
let ca = '';
let caDir = '';
const procs: RegcacheProcess[] = [];

async function replica(prefix: string, extra: Record<string, unknown> = {}): Promise<RegcacheProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-s3rep-'));
  const p = await startRegcache(
    {
      server: { tls: { cert: join(caDir, 'server.pem'), key: join(caDir, 'server-key.pem') } },
      storage: s3Storage(join(dir, 'data'), s3.endpoint, prefix),
      terraform: { upstreams: [{ host: 'registry.terraform.io', url: origin.url }] },
      ...extra,
    },
    { NODE_EXTRA_CA_CERTS: origin.caFile, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  );
  procs.push(p);
  return p;
}

void describe('e2e: replicas sharing one S3 bucket', () => {
  before(async () => {
    origin = await startOriginRegistry({ bytesPerSecond: 20_000_000 });
    s3 = await startS3Server({ buckets: [TEST_BUCKET] });
    redis = await startRedisServer();
    for (const type of ['random', 'shared', 'fleet']) {
      await origin.addProvider({ namespace: 'hashicorp', type, versions: [{ version: '1.0.0', platforms: PLATFORMS, extraBytes: type === 'random' ? 0 : 3_000_000 }] });
    }
    // One TLS identity for every replica, as behind a load balancer.
    caDir = await mkdtemp(join(tmpdir(), 'regcache-s3ca-'));
    const authority = await generateCa('regcache test fleet CA');
    const leaf = await issueServerCert(authority, ['127.0.0.1', 'localhost']);
    await writeFile(join(caDir, 'ca.pem'), authority.certPem);
    await writeFile(join(caDir, 'server.pem'), leaf.certPem);
    await writeFile(join(caDir, 'server-key.pem'), leaf.keyPem);
    ca = authority.certPem;
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await redis?.stop();
    await s3?.close();
    await origin?.stop();
  });

  const init = (p: RegcacheProcess) =>
    runTerraform({ mainTf: mainTfFor({ 'hashicorp/random': '1.0.0' }), cliConfig: networkMirrorCliConfig(`${p.url}/v1/mirror/`), caFile: join(caDir, 'ca.pem') });

  void it('terraform init through replica A, then through replica B with upstream down', async () => {
    const a = await replica('fleet-a/');
    const b = await replica('fleet-a/');
    const first = await init(a);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    await origin.down();
    try {
      const second = await init(b);
      assert.equal(second.code, 0, second.stderr + second.stdout);
    } finally {
      await origin.up();
    }
    assert.equal(origin.count((x) => x.endsWith('random_1.0.0_linux_amd64.zip'), 'GET'), 1);
  });

  const zipPath = (type: string): string => `/v1/mirror/registry.terraform.io/hashicorp/${type}/1.0.0/linux_amd64/terraform-provider-${type}_1.0.0_linux_amd64.zip`;

  void it('parallel cold requests split across two replicas end with one intact object', async () => {
    const a = await replica('split/');
    const b = await replica('split/');
    const expected = sha(origin.zipBytes('hashicorp', 'shared', '1.0.0', 'linux', 'amd64'));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => httpsRequest(`${(i % 2 ? a : b).url}${zipPath('shared')}`, { ca })));
    for (const r of answers) assert.equal(sha(r.body), expected);
    for (const p of [a, b]) assert.equal(sha((await httpsRequest(`${p.url}${zipPath('shared')}`, { ca })).body), expected);
  });

  void it('with Redis, the upstream sees one download per artifact across both replicas', async () => {
    const coordination = { coordination: { redis: { url: redis.url } } };
    const a = await replica('redis/', coordination);
    const b = await replica('redis/', coordination);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => httpsRequest(`${(i % 2 ? a : b).url}${zipPath('fleet')}`, { ca })));
    const expected = sha(origin.zipBytes('hashicorp', 'fleet', '1.0.0', 'linux', 'amd64'));
    for (const r of answers) assert.equal(sha(r.body), expected);
    assert.equal(origin.count((x) => x.endsWith('fleet_1.0.0_linux_amd64.zip'), 'GET'), 1);
  });

  void it('with redirect: true, artifact hits answer 302 to a presigned URL that serves the bytes', async () => {
    const a = await replica('redirect/');
    const expected = sha(origin.zipBytes('hashicorp', 'random', '1.0.0', 'linux', 'amd64'));
    const cold = await httpsRequest(`${a.url}${zipPath('random')}`, { ca });
    assert.equal(sha(cold.body), expected, 'cold: streamed through regcache');
    const redirecting = await replica('redirect/', { storage: { path: a.dataDir, type: 's3', s3: { bucket: TEST_BUCKET, prefix: 'redirect/', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS, redirect: true } } });
    const hit = await httpsRequest(`${redirecting.url}${zipPath('random')}`, { ca });
    assert.equal(hit.status, 302);
    const location = String(hit.headers.location);
    assert.ok(location.startsWith(s3.endpoint), location);
    assert.match(location, /X-Amz-Signature=/);
    const { request } = await import('undici');
    const presigned = await request(location);
    assert.equal(presigned.statusCode, 200);
    assert.equal(sha(Buffer.from(await presigned.body.arrayBuffer())), expected);
  });

  void it('S3 errors answer 503 ERR_STORAGE_UNAVAILABLE and fail /ready until they clear', async () => {
    const a = await replica('faults/');
    for (const fault of ['AccessDenied', 'SlowDown', 'NoSuchBucket'] as const) {
      s3.setFault(fault);
      try {
        const ready = await httpsRequest(`${a.url}/ready`, { ca });
        assert.equal(ready.status, 503, `${fault}: ${ready.body.toString()}`);
        assert.equal((JSON.parse(ready.body.toString()) as { code: string }).code, 'ERR_STORAGE_UNAVAILABLE');
        const zip = await httpsRequest(`${a.url}${zipPath('random')}`, { ca });
        assert.equal(zip.status, 503, `${fault} zip: ${zip.body.toString()}`);
      } finally {
        s3.setFault(undefined);
      }
      assert.equal((await httpsRequest(`${a.url}/ready`, { ca })).status, 200);
    }
    assert.equal((await httpsRequest(`${a.url}${zipPath('random')}`, { ca })).status, 200);
    assert.ok(a.logs.some((l) => l.code === 'ERR_STORAGE_UNAVAILABLE'), 'logged');
  });
});
