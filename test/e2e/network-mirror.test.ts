/**
 * End to end with the real Terraform CLI: terraform → regcache (network
 * mirror, started as the README says) → fake origin registry over TLS.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry } from '../fakes/origin-registry.js';
import type { OriginRegistry } from '../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { mainTfFor, networkMirrorCliConfig, readLockFile, runTerraform } from '../support/terraform.js';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];

let origin: OriginRegistry;
let regcache: RegcacheProcess;

const zipDownloads = (name: string): number => origin.count((p) => p.includes(name) && p.endsWith('.zip'), 'GET');

async function objectFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  await walk(dir);
  return out;
}

function init(providers: Record<string, string>) {
  return runTerraform({
    mainTf: mainTfFor(providers),
    cliConfig: networkMirrorCliConfig(`${regcache.url}/v1/mirror/`),
    caFile: regcache.caPath ?? '',
  });
}

void describe('e2e: terraform init through the network mirror', () => {
  before(async () => {
    origin = await startOriginRegistry();
    await origin.addProvider({ namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: PLATFORMS }, { version: '3.5.1', platforms: PLATFORMS }] });
    await origin.addProvider({ namespace: 'hashicorp', type: 'null', versions: [{ version: '3.2.2', platforms: PLATFORMS }] });
    await origin.addProvider({ namespace: 'hashicorp', type: 'local', versions: [{ version: '2.5.1', platforms: PLATFORMS }] });
    await origin.addProvider({ namespace: 'acme', type: 'tampered', versions: [{ version: '1.0.0', platforms: PLATFORMS }] });
    regcache = await startRegcache(
      { terraform: { upstreams: [{ host: 'registry.terraform.io', url: origin.url }] } },
      { NODE_EXTRA_CA_CERTS: origin.caFile },
    );
    assert.ok(regcache.caPath, 'self-signed CA generated on first start');
  });

  after(async () => {
    await regcache?.stop();
    await origin?.stop();
  });

  void it('cold init pulls each zip once and writes an h1 lock entry; a second init downloads nothing upstream', async (t) => {
    const cold = await init({ 'hashicorp/random': '3.6.0' });
    assert.equal(cold.code, 0, cold.stderr + cold.stdout);
    assert.match(cold.stdout, /Installed hashicorp\/random v3\.6\.0/);
    assert.equal(zipDownloads('random_3.6.0_linux_amd64'), 1);
    const lock = await readLockFile(cold.dir);
    assert.match(lock, /h1:/);

    const before = origin.requests.length;
    const warm = await init({ 'hashicorp/random': '3.6.0' });
    assert.equal(warm.code, 0, warm.stderr + warm.stdout);
    assert.equal(zipDownloads('random_3.6.0'), 1, 'no further zip download');
    assert.equal(origin.requests.length, before, 'warm init: zero upstream requests at all');
    t.diagnostic(`init time cold ${cold.ms} ms, warm ${warm.ms} ms`);
  });

  void it('init succeeds from the cache while the upstream registry is down', async () => {
    await origin.down();
    try {
      const r = await init({ 'hashicorp/random': '3.6.0' });
      assert.equal(r.code, 0, r.stderr + r.stdout);
    } finally {
      await origin.up();
    }
  });

  void it('10 parallel cold inits cause exactly one upstream download per zip', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, () => init({ 'hashicorp/null': '3.2.2', 'hashicorp/local': '2.5.1' })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(zipDownloads('null_3.2.2_linux_amd64'), 1);
    assert.equal(zipDownloads('local_2.5.1_linux_amd64'), 1);
    assert.equal(origin.count('terraform-provider-null_3.2.2_SHA256SUMS', 'GET') + origin.count('_SHA256SUMS.sig', 'GET') >= 1, true);
    assert.equal(origin.count(/null_3\.2\.2_SHA256SUMS$/, 'GET'), 1, 'SHA256SUMS fetched once');
  });

  void it('a wrong upstream shasum fails init and caches nothing; once fixed, init succeeds', async () => {
    origin.setFault('tampered_1.0.0_linux_amd64.zip', { kind: 'wrongShasum' });
    const bad = await init({ 'acme/tampered': '1.0.0' });
    assert.notEqual(bad.code, 0, 'init must fail on a wrong checksum');
    const files = await objectFiles(join(regcache.dataDir, 'cache', 'objects', 'tf', 'providers'));
    assert.equal(files.filter((f) => f.includes('tampered') && f.includes('linux_amd64') && f.endsWith('zip~obj')).length, 0, 'nothing cached');
    const failLog = regcache.logs.find((l) => l.code === 'ERR_INTEGRITY_MISMATCH');
    assert.ok(failLog, 'integrity failure is logged');
    origin.clearFaults();
    const good = await init({ 'acme/tampered': '1.0.0' });
    assert.equal(good.code, 0, good.stderr + good.stdout);
  });
});
