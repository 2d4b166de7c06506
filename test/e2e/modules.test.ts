/**
 * Modules end to end: the real Terraform CLI in registry mode installs
 * registry modules whose upstream location is an archive or a git source
 * (served by a real git http-backend on loopback), through regcache.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpsRequest } from '../fakes/https-request.js';
import { startGitHost, type GitHost } from '../fakes/git-host.js';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { hostOverrideCliConfig, runTerraform } from '../support/terraform.js';

let origin: OriginRegistry;
let git: GitHost;
let regcache: RegcacheProcess;
let tagSha = '';

const modulesTf = (blocks: Record<string, string>): string =>
  Object.entries(blocks)
    .map(([name, src]) => `module "${name}" {\n  source  = "registry.terraform.io/${src.split('@')[0]}"\n  version = "${src.split('@')[1]}"\n}\n`)
    .join('');

void describe('e2e: modules through regcache', () => {
  before(async () => {
    origin = await startOriginRegistry();
    git = await startGitHost();
    tagSha = await git.createRepo('vpc', { 'main.tf': 'output "flavour" { value = "tagged" }\n', 'sub/main.tf': 'output "flavour" { value = "sub" }\n' }, { tag: 'v1.2.0' });
    origin.addModule({ namespace: 'acme', name: 'net', system: 'aws', versions: ['1.0.0', '1.1.0'] });
    origin.addModule({ namespace: 'acme', name: 'vpc', system: 'aws', versions: ['1.2.0'], location: (v) => `git::${git.url}/vpc.git?ref=v${v}` });
    origin.addModule({ namespace: 'acme', name: 'edge', system: 'aws', versions: ['0.1.0'], location: () => `git::${git.url}/vpc.git//sub?ref=main` });
    origin.addModule({ namespace: 'acme', name: 'ssh', system: 'aws', versions: ['1.0.0'], location: () => 'git::ssh://git@example.com/acme/ssh.git?ref=v1.0.0' });
    origin.addModule({ namespace: 'acme', name: 'secret', system: 'aws', versions: ['2.0.0'], token: 'mod-token' });
    regcache = await startRegcache(
      {
        terraform: {
          upstreams: [{ host: 'registry.terraform.io', url: origin.url }],
          git: { hosts: [git.host], allowHttp: true },
          metadata: { ttl: '1s' },
        },
      },
      { NODE_EXTRA_CA_CERTS: origin.caFile },
    );
  });
  after(async () => {
    await regcache?.stop();
    await git?.stop();
    await origin?.stop();
  });

  const init = (blocks: Record<string, string>, creds: Record<string, string> = {}) =>
    runTerraform({ mainTf: modulesTf(blocks), cliConfig: hostOverrideCliConfig(regcache.url, 'registry.terraform.io', creds), caFile: regcache.caPath ?? '' });

  const download = (path: string, token?: string) =>
    httpsRequest(`${regcache.url}/v1/modules/registry.terraform.io/${path}/download`, { ca: readCa(), ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
  let caPem = '';
  const readCa = (): string => caPem;

  void it('answers downloads with 200, a JSON location and X-Terraform-Get pointing at regcache', async () => {
    caPem = await readFile(regcache.caPath ?? '', 'utf8');
    const r = await download('acme/vpc/aws/1.2.0');
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body.toString()) as { location: string };
    assert.equal(r.headers['x-terraform-get'], body.location);
    assert.equal(body.location, `${regcache.url}/v1/modules/registry.terraform.io/acme/vpc/aws/1.2.0/git/${tagSha}.tar.gz`);
    const sub = JSON.parse((await download('acme/edge/aws/0.1.0')).body.toString()) as { location: string };
    assert.match(sub.location, /\/git\/[0-9a-f]{40}\.tar\.gz\/\/sub$/, 'subdir kept');
    const ssh = JSON.parse((await download('acme/ssh/aws/1.0.0')).body.toString()) as { location: string };
    assert.equal(ssh.location, 'git::ssh://git@example.com/acme/ssh.git?ref=v1.0.0', 'ssh sources pass through unchanged');
  });

  void it('terraform init installs archive and git modules through regcache', async () => {
    const r = await init({ net: 'acme/net/aws@1.1.0', vpc: 'acme/vpc/aws@1.2.0', edge: 'acme/edge/aws@0.1.0' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(await readFile(join(r.dir, '.terraform/modules/vpc/main.tf'), 'utf8'), /tagged/);
    assert.match(await readFile(join(r.dir, '.terraform/modules/edge/sub/main.tf'), 'utf8'), /sub/);
    assert.match(await readFile(join(r.dir, '.terraform/modules/net/main.tf'), 'utf8'), /1\.1\.0/);
    const manifest = JSON.parse(await readFile(join(r.dir, '.terraform/modules/modules.json'), 'utf8')) as { Modules: Array<{ Key: string; Dir: string }> };
    assert.equal(manifest.Modules.find((m) => m.Key === 'edge')?.Dir, '.terraform/modules/edge/sub', 'Terraform used the //subdir');
  });

  void it('a tag is cached as immutable; a moved branch is revalidated', async () => {
    const first = JSON.parse((await download('acme/edge/aws/0.1.0')).body.toString()) as { location: string };
    const newSha = await git.commit('vpc', { 'main.tf': 'x', 'sub/main.tf': 'output "flavour" { value = "moved" }\n' });
    let moved = first.location;
    for (let i = 0; i < 100 && !moved.includes(newSha); i++) {
      await new Promise((r) => setTimeout(r, 200));
      moved = (JSON.parse((await download('acme/edge/aws/0.1.0')).body.toString()) as { location: string }).location;
    }
    assert.ok(moved.includes(newSha), 'branch ref resolves to the new commit after revalidation');
    const tagged = JSON.parse((await download('acme/vpc/aws/1.2.0')).body.toString()) as { location: string };
    assert.ok(tagged.location.includes(tagSha), 'tag stays pinned');
  });

  void it('a second init works with the registry and the git host down', async () => {
    await origin.down();
    await git.down();
    try {
      const r = await init({ net: 'acme/net/aws@1.1.0', vpc: 'acme/vpc/aws@1.2.0' });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(await readFile(join(r.dir, '.terraform/modules/vpc/main.tf'), 'utf8'), /tagged/);
    } finally {
      await origin.up();
      await git.up();
    }
  });

  void it('a private module needs the token, also once cached', async () => {
    const denied = await init({ s: 'acme/secret/aws@2.0.0' });
    assert.notEqual(denied.code, 0);
    const ok = await init({ s: 'acme/secret/aws@2.0.0' }, { 'registry.terraform.io': 'mod-token' });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const again = await init({ s: 'acme/secret/aws@2.0.0' });
    assert.notEqual(again.code, 0, 'cached, still refused without the token');
    const loc = JSON.parse((await download('acme/secret/aws/2.0.0', 'mod-token')).body.toString()) as { location: string };
    assert.match(loc.location, /\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/, 'private archive URLs are signed');
    const unsigned = await httpsRequest(loc.location.split('?')[0] ?? '', { ca: caPem });
    assert.equal(unsigned.status, 401);
    const tampered = await httpsRequest(loc.location.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`), { ca: caPem });
    assert.equal(tampered.status, 401);
    const good = await httpsRequest(loc.location, { ca: caPem });
    assert.equal(good.status, 200);
    assert.ok(!regcache.output().includes('mod-token'));
  });
});
