/**
 * End to end with the real Terraform CLI in registry mode: a `host`
 * override sends registry.terraform.io's provider API to regcache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { hostOverrideCliConfig, mainTfFor, readLockFile, runTerraform } from '../support/terraform.js';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];

let origin: OriginRegistry;
let regcache: RegcacheProcess;

void describe('e2e: terraform init in registry mode (host override)', () => {
  before(async () => {
    origin = await startOriginRegistry({ cdn: true });
    await origin.addProvider({ namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: PLATFORMS }] });
    await origin.addProvider({ namespace: 'acme', type: 'secret', versions: [{ version: '1.2.0', platforms: PLATFORMS }], token: 'let-me-in' });
    regcache = await startRegcache({ terraform: { upstreams: [{ host: 'registry.terraform.io', url: origin.url }] } }, { NODE_EXTRA_CA_CERTS: origin.caFile });
  });
  after(async () => {
    await regcache?.stop();
    await origin?.stop();
  });

  const init = (providers: Record<string, string>, creds: Record<string, string> = {}) =>
    runTerraform({ mainTf: mainTfFor(providers), cliConfig: hostOverrideCliConfig(regcache.url, 'registry.terraform.io', creds), caFile: regcache.caPath ?? '' });

  void it('installs a signed provider and writes zh: hashes for every platform', async () => {
    const r = await init({ 'hashicorp/random': '3.6.0' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Installed hashicorp\/random v3\.6\.0 \(self-signed, key ID [0-9A-F]{16}\)/);
    const lock = await readLockFile(r.dir);
    const zh = lock.match(/"zh:[0-9a-f]{64}"/g) ?? [];
    assert.equal(zh.length, PLATFORMS.length, lock);
    assert.match(lock, /"h1:/);
    assert.equal(origin.count((p) => p.endsWith('random_3.6.0_linux_amd64.zip'), 'GET'), 1);
  });

  void it('a second init succeeds with the origin (registry and CDN) down', async () => {
    await origin.down();
    await origin.down('cdn');
    try {
      const r = await init({ 'hashicorp/random': '3.6.0' });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /\(self-signed, key ID/);
    } finally {
      await origin.up();
      await origin.up('cdn');
    }
  });

  void it('a private provider installs with the token and is refused without it, even when cached', async () => {
    const denied = await init({ 'acme/secret': '1.2.0' });
    assert.notEqual(denied.code, 0, 'no token: refused');
    const ok = await init({ 'acme/secret': '1.2.0' }, { 'registry.terraform.io': 'let-me-in' });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout + regcache.output().slice(-3000));
    const deniedCached = await init({ 'acme/secret': '1.2.0' });
    assert.notEqual(deniedCached.code, 0, 'cached but still refused without a token');
    const wrong = await init({ 'acme/secret': '1.2.0' }, { 'registry.terraform.io': 'wrong' });
    assert.notEqual(wrong.code, 0, 'wrong token refused');
    for (const req of origin.requests) {
      if (req.authorization && req.server === 'cdn') assert.fail('a credential reached the CDN host');
    }
    assert.ok(!regcache.output().includes('let-me-in'), 'token never logged');
  });
});
