/**
 * Issue 17, point 10 (two of the small fixes), with real processes:
 * - the filesystem store keeps private content from other local users:
 *   every file under the cache root is 0600 and every directory 0700;
 * - `regcache validate` never prints a rejected secret: a urlSigningKey
 *   that is too short is named, its value is not.
 */
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { rawRequest } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { report, stopAndClean } from './support.js';

const TOKEN = 'at-rest-client-token-91c2';
const HOST = 'registry.terraform.io';

/** Every entry below `dir` (itself included) with its permission bits. */
async function modes(dir: string): Promise<Array<{ path: string; dir: boolean; mode: number }>> {
  const out = [{ path: dir, dir: true, mode: (await lstat(dir)).mode & 0o777 }];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await modes(full)));
    else out.push({ path: full, dir: false, mode: (await lstat(full)).mode & 0o777 });
  }
  return out;
}

void describe('reliability: secrets at rest and in validate output', () => {
  let origin: OriginRegistry;
  let rc: RegcacheProcess;

  before(async () => {
    origin = await startOriginRegistry();
    await origin.addProvider({ namespace: 'acme', type: 'atrest', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }], token: TOKEN });
    rc = await startRegcache({ server: { tls: false }, terraform: { upstreams: [{ host: HOST, url: origin.url }] } }, { NODE_EXTRA_CA_CERTS: origin.caFile });
  });
  after(async () => {
    await stopAndClean(rc);
    await origin?.stop();
  });

  void it('a cached private provider is stored in files only regcache\'s user can read', async () => {
    const d = await rawRequest(rc.url, `/v1/providers/${HOST}/acme/atrest/1.0.0/download/linux/amd64`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(d.status, 200, d.body.toString('utf8'));
    const zip = new URL((JSON.parse(d.body.toString('utf8')) as { download_url: string }).download_url);
    assert.equal((await rawRequest(rc.url, zip.pathname + zip.search)).status, 200);
    const entries = await modes(join(rc.dataDir, 'cache'));
    const files = entries.filter((e) => !e.dir);
    assert.ok(files.some((e) => e.path.endsWith('/zip~obj')), 'the zip was stored');
    const open = entries.filter((e) => (e.dir ? e.mode !== 0o700 : e.mode !== 0o600));
    report('store-modes', { files: files.length, dirs: entries.length - files.length, wrongModes: open.length });
    assert.deepEqual(open.map((e) => `${e.path.slice(rc.dataDir.length)} ${e.mode.toString(8)}`), []);
  });

  void it('regcache validate names a rejected urlSigningKey without printing it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'regcache-validate-'));
    try {
      const secret = 'too-short-signing-key-3f9a';
      const file = join(dir, 'regcache.yaml');
      await writeFile(file, `server:\n  urlSigningKey: ${secret}\n`);
      const r = await runCli(['validate', '--config', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /server\.urlSigningKey: must be at least 32/);
      assert.ok(!`${r.stdout}${r.stderr}`.includes(secret), `the key was printed: ${r.stderr}`);
      const viaEnv = await runCli(['validate'], { REGCACHE_SERVER_URL_SIGNING_KEY: secret });
      assert.equal(viaEnv.code, 1, viaEnv.stderr);
      assert.match(viaEnv.stderr, /urlSigningKey/);
      assert.ok(!`${viaEnv.stdout}${viaEnv.stderr}`.includes(secret), `the key from the environment was printed: ${viaEnv.stderr}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
