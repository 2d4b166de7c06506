/**
 * Two regcache processes started together on one storage directory: they
 * agree on one CA, and concurrent cold requests for the same zip split
 * across both end with one intact object and intact answers everywhere.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpsRequest } from '../fakes/https-request.js';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';

let origin: OriginRegistry;
let a: RegcacheProcess;
let b: RegcacheProcess;
const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');

void describe('e2e: two processes sharing one cache directory', () => {
  before(async () => {
    origin = await startOriginRegistry({ bytesPerSecond: 20_000_000 });
    await origin.addProvider({ namespace: 'hashicorp', type: 'big', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: 4_000_000 }] });
    const dir = await mkdtemp(join(tmpdir(), 'regcache-shared-'));
    const config = { storage: { path: join(dir, 'data') }, terraform: { upstreams: [{ host: 'registry.terraform.io', url: origin.url }] } };
    [a, b] = await Promise.all([startRegcache(config, { NODE_EXTRA_CA_CERTS: origin.caFile }), startRegcache(config, { NODE_EXTRA_CA_CERTS: origin.caFile })]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await origin?.stop();
  });

  void it('both serve certificates from the same CA', async () => {
    assert.equal(a.caPath, b.caPath);
    const ca = await readFile(a.caPath ?? '', 'utf8');
    for (const p of [a, b]) assert.equal((await httpsRequest(`${p.url}/health`, { ca })).status, 200);
  });

  void it('concurrent cold requests split across both end with one intact object', async () => {
    const ca = await readFile(a.caPath ?? '', 'utf8');
    const expected = sha(origin.zipBytes('hashicorp', 'big', '1.0.0', 'linux', 'amd64'));
    const path = '/v1/mirror/registry.terraform.io/hashicorp/big/1.0.0/linux_amd64/terraform-provider-big_1.0.0_linux_amd64.zip';
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => httpsRequest(`${(i % 2 === 0 ? a : b).url}${path}`, { ca })));
    for (const r of answers) {
      assert.equal(r.status, 200);
      assert.equal(sha(r.body), expected);
    }
    const downloads = origin.count((p) => p.endsWith('big_1.0.0_linux_amd64.zip'), 'GET');
    assert.ok(downloads >= 1 && downloads <= 2, `one download per process at most, saw ${downloads}`);
    for (const p of [b, a]) {
      const again = await httpsRequest(`${p.url}${path}`, { ca });
      assert.equal(sha(again.body), expected);
    }
    assert.equal(origin.count((p) => p.endsWith('big_1.0.0_linux_amd64.zip'), 'GET'), downloads, 'warm from the shared store');
  });
});
