/**
 * `regcache lock` end to end: the lock file it writes through regcache has
 * h1: for every requested platform and zh: for every published one, the
 * real Terraform accepts it as is (`init -lockfile=readonly`, and a plain
 * `init` finds nothing to change), and it is formatted exactly as Terraform
 * formats its own.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { currentPlatform } from '../../../../src/mirrors/terraform/cli/lock.js';
import type { RegcacheProcess } from '../../../support/regcache-process.js';
import { networkMirrorCliConfig, readLockFile, runTerraform } from '../../../support/terraform.js';
import { printed, runCli, startCliSetup } from '../../../cli/run-cli.js';

const THREE = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];
const FOUR = [...THREE, { os: 'linux', arch: 'arm64' }];

const MAIN_TF = `terraform {
  required_providers {
    random = {
      source  = "hashicorp/random"
      version = "< 4, >= 3.5" # Terraform records this as ">= 3.5.0, < 4.0.0"
    }
    null = {
      source = "registry.terraform.io/hashicorp/null"
    }
  }
}
`;

let regcache: RegcacheProcess;
let stop: () => Promise<void>;
let work: string;

/** Hash lines per provider block of a lock file. */
function hashesByProvider(lock: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of lock.matchAll(/^provider "([^"]+)" \{\n([\s\S]*?)^\}/gm)) {
    out.set(m[1] ?? '', [...(m[2] ?? '').matchAll(/"((?:h1|zh):[^"]+)"/g)].map((h) => h[1] ?? ''));
  }
  return out;
}

function init(dir: string, args?: string[]) {
  return runTerraform({ dir, mainTf: MAIN_TF, cliConfig: networkMirrorCliConfig(`${regcache.url}/v1/mirror/`), caFile: regcache.caPath ?? '', ...(args ? { args } : {}) });
}

async function configDir(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, 'main.tf'), MAIN_TF);
  return dir;
}

void describe('cli: regcache lock', () => {
  before(async () => {
    ({ regcache, stop } = await startCliSetup([
      { namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: THREE }, { version: '3.5.0', platforms: THREE }, { version: '4.0.0', platforms: THREE }] },
      { namespace: 'hashicorp', type: 'null', versions: [{ version: '3.2.2', platforms: FOUR }] },
    ]));
    work = await mkdtemp(join(tmpdir(), 'regcache-cli-lock-'));
  });
  after(async () => {
    await stop?.();
    await rm(work, { recursive: true, force: true });
  });

  void it('writes h1: per requested platform and zh: per published platform; terraform accepts it unchanged', async () => {
    const dir = await configDir('complete');
    const r = await runCli(['lock', '--server', regcache.url, '--platform', 'linux_amd64', '--platform', 'darwin_arm64', dir], { NODE_EXTRA_CA_CERTS: regcache.caPath ?? '' });
    assert.equal(r.code, 0, printed(r));
    const lock = await readLockFile(dir);
    const hashes = hashesByProvider(lock);
    assert.deepEqual([...hashes.keys()], ['registry.terraform.io/hashicorp/null', 'registry.terraform.io/hashicorp/random']);
    for (const [provider, published] of [['registry.terraform.io/hashicorp/null', 4], ['registry.terraform.io/hashicorp/random', 3]] as const) {
      const list = hashes.get(provider) ?? [];
      assert.equal(list.filter((h) => h.startsWith('h1:')).length, 2, `${provider}: two h1:\n${lock}`);
      assert.equal(list.filter((h) => h.startsWith('zh:')).length, published, `${provider}: one zh: per published platform\n${lock}`);
    }
    assert.match(lock, /provider "registry.terraform.io\/hashicorp\/random" \{\n {2}version {5}= "3\.6\.0"\n {2}constraints = ">= 3\.5\.0, < 4\.0\.0"\n/);
    assert.match(lock, /provider "registry.terraform.io\/hashicorp\/null" \{\n {2}version = "3\.2\.2"\n {2}hashes = \[\n/);

    const readonly = await init(dir, ['init', '-input=false', '-no-color', '-lockfile=readonly']);
    assert.equal(readonly.code, 0, readonly.stderr + readonly.stdout);
    assert.equal(await readLockFile(dir), lock, 'byte-identical after init -lockfile=readonly');
    const plain = await init(dir);
    assert.equal(plain.code, 0, plain.stderr + plain.stdout);
    assert.equal(await readLockFile(dir), lock, 'a plain init finds nothing to add or change');
  });

  void it('is formatted exactly as Terraform writes its own lock file', async () => {
    const ours = await configDir('format-ours');
    const r = await runCli(['lock', '--server', regcache.url, '--ca', regcache.caPath ?? '', '--platform', currentPlatform(), ours]);
    assert.equal(r.code, 0, printed(r));
    const theirsDir = await configDir('format-theirs');
    const tf = await init(theirsDir);
    assert.equal(tf.code, 0, tf.stderr + tf.stdout);
    const theirs = await readLockFile(theirsDir);
    const recorded = new Set([...theirs.matchAll(/"((?:h1|zh):[^"]+)"/g)].map((m) => m[1]));
    assert.ok(recorded.size > 0);
    const mine = await readLockFile(ours);
    const filtered = mine
      .split('\n')
      .filter((line) => !/^ {4}"(h1|zh):/.test(line) || recorded.has(/"([^"]+)"/.exec(line)?.[1]))
      .join('\n');
    assert.equal(filtered, theirs, 'same bytes once limited to the hashes Terraform recorded');
  });

  void it('keeps a locked version that still matches unless --upgrade', async () => {
    const dir = await configDir('upgrade');
    await writeFile(join(dir, '.terraform.lock.hcl'), 'provider "registry.terraform.io/hashicorp/random" {\n  version = "3.5.0"\n}\n');
    const base = ['lock', '--server', regcache.url, '--ca', regcache.caPath ?? '', '--platform', 'linux_amd64', dir];
    const kept = await runCli(base);
    assert.equal(kept.code, 0, printed(kept));
    assert.match(await readFile(join(dir, '.terraform.lock.hcl'), 'utf8'), /version {5}= "3\.5\.0"/);
    const upgraded = await runCli([...base, '--upgrade']);
    assert.equal(upgraded.code, 0, printed(upgraded));
    assert.match(await readFile(join(dir, '.terraform.lock.hcl'), 'utf8'), /version {5}= "3\.6\.0"/);
  });

  void it('fails clearly for a platform that is not published, writing nothing', async () => {
    const dir = await configDir('missing-platform');
    const r = await runCli(['lock', '--server', regcache.url, '--ca', regcache.caPath ?? '', '--platform', 'freebsd_riscv', dir]);
    assert.equal(r.code, 1, printed(r));
    assert.match(r.stderr, /hashicorp\/null 3\.2\.2 is not available for freebsd_riscv/);
    await assert.rejects(readLockFile(dir), { code: 'ENOENT' });
  });
});
