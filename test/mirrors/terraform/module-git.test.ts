/**
 * Git module sources through a real regcache process, a fake registry and a
 * real git http-backend: only the commit a version's ref resolves to is
 * served (never any other commit the host would hand out by id, such as a
 * fork's on GitHub), git processes stay under `git.maxProcesses` however
 * many requests arrive, and a failed ref lookup is remembered briefly.
 *
 * git processes are counted by a `git` wrapper first on regcache's PATH
 * that logs each start and exit.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startGitHost, type GitHost } from '../../fakes/git-host.js';
import { startOriginRegistry, type OriginRegistry } from '../../fakes/origin-registry.js';
import { rawRequest } from '../../integration/http-client.js';
import { listTree } from '../../support/file-tree.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';

const HOST = 'registry.terraform.io';
const MANY = 40;
const MAX_PROCESSES = 4;

/** Peak number of git processes running at once, and how many started, from the wrapper's log. */
async function gitProcesses(log: string): Promise<{ peak: number; started: number }> {
  const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  let running = 0;
  let peak = 0;
  for (const line of lines) {
    running += line.startsWith('+') ? 1 : -1;
    peak = Math.max(peak, running);
  }
  return { peak, started: lines.filter((l) => l.startsWith('+')).length };
}

const modulePath = (name: string, version: string, tail: string): string => `/v1/modules/${HOST}/acme/${name}/aws/${version}/${tail}`;

void describe('git module sources through regcache', () => {
  let origin: OriginRegistry;
  let git: GitHost;
  let p: RegcacheProcess;
  let dir = '';
  let gitLog = '';
  let tagSha = '';
  let forkSha = '';

  before(async () => {
    origin = await startOriginRegistry();
    git = await startGitHost();
    dir = await mkdtemp(join(tmpdir(), 'regcache-module-git-'));
    gitLog = join(dir, 'git.log');
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    const wrapper = join(dir, 'bin', 'git');
    await mkdir(join(dir, 'bin'));
    await writeFile(wrapper, `#!/bin/sh\necho "+ $$" >> '${gitLog}'\n'${realGit}' "$@"\nrc=$?\necho "- $$" >> '${gitLog}'\nexit $rc\n`);
    await chmod(wrapper, 0o755);

    tagSha = await git.createRepo('vpc', { 'main.tf': 'output "v" { value = "tagged" }\n' }, { tag: 'v1.2.0' });
    // A commit the host serves by id but no tag names: what a fork's commit is on GitHub.
    forkSha = await git.commit('vpc', { 'main.tf': 'output "v" { value = "evil" }\n' }, { branch: 'fork' });
    origin.addModule({ namespace: 'acme', name: 'vpc', system: 'aws', versions: ['1.2.0'], location: (v) => `git::${git.url}/vpc.git?ref=v${v}` });
    origin.addModule({ namespace: 'acme', name: 'gone', system: 'aws', versions: ['1.0.0'], location: () => `git::${git.url}/vpc.git?ref=v9.9.9` });
    for (let i = 0; i < MANY; i++) await git.commit('many', { 'main.tf': `output "i" { value = ${i} }\n` }, { tag: `t${i}` });
    origin.addModule({ namespace: 'acme', name: 'many', system: 'aws', versions: Array.from({ length: MANY }, (_, i) => `1.0.${i}`), location: (v) => `git::${git.url}/many.git?ref=t${v.split('.')[2] ?? ''}` });

    p = await startRegcache(
      {
        server: { tls: false },
        terraform: { upstreams: [{ host: HOST, url: origin.url }], git: { hosts: [git.host], allowHttp: true, maxProcesses: MAX_PROCESSES } },
      },
      { NODE_EXTRA_CA_CERTS: origin.caFile, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}` },
    );
  });
  after(async () => {
    await p?.stop();
    await git?.stop();
    await origin?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('serves the commit the version resolves to, and refuses any other with 404, storing nothing', async () => {
    const download = await rawRequest(p.url, modulePath('vpc', '1.2.0', 'download'));
    assert.equal(download.status, 200);
    const location = (JSON.parse(download.body.toString('utf8')) as { location: string }).location;
    assert.ok(location.endsWith(`/git/${tagSha}.tar.gz`), location);

    const forked = await rawRequest(p.url, modulePath('vpc', '1.2.0', `git/${forkSha}.tar.gz`));
    assert.equal(forked.status, 404, forked.body.toString('utf8'));
    const stored = await listTree(join(p.dataDir, 'cache', 'objects'));
    assert.deepEqual(stored.filter((f) => f.includes(forkSha)), [], 'nothing stored for the other commit');

    const good = await rawRequest(p.url, modulePath('vpc', '1.2.0', `git/${tagSha}.tar.gz`));
    assert.equal(good.status, 200);
    assert.match(gunzipSync(good.body).toString('latin1'), /tagged/);
  });

  void it(`keeps ${MANY} concurrent module downloads and archives within ${MAX_PROCESSES} git processes`, async () => {
    await writeFile(gitLog, '');
    const versions = Array.from({ length: MANY }, (_, i) => `1.0.${i}`);
    const downloads = await Promise.all(versions.map((v) => rawRequest(p.url, modulePath('many', v, 'download'))));
    const locations = downloads.map((r, i) => {
      assert.equal(r.status, 200, `download ${i}: ${r.body.toString('utf8')}`);
      return new URL((JSON.parse(r.body.toString('utf8')) as { location: string }).location).pathname;
    });
    const archives = await Promise.all(locations.map((path) => rawRequest(p.url, path)));
    archives.forEach((r, i) => {
      assert.equal(r.status, 200, `archive ${i}: ${r.body.toString('utf8').slice(0, 200)}`);
      assert.match(gunzipSync(r.body).toString('latin1'), new RegExp(`value = ${i}\\b`));
    });
    const counted = await gitProcesses(gitLog);
    console.log(`RELIABILITY ${JSON.stringify({ scenario: `${MANY} git module downloads + archives`, gitProcessesStarted: counted.started, peakGitProcesses: counted.peak, maxProcesses: MAX_PROCESSES })}`);
    assert.ok(counted.started >= MANY, 'git ran');
    assert.ok(counted.peak <= MAX_PROCESSES, `at most ${MAX_PROCESSES} git processes at once, saw ${counted.peak}`);
  });

  void it('remembers a ref that does not resolve instead of asking the host again', async () => {
    const before = git.count('info/refs');
    const first = await rawRequest(p.url, modulePath('gone', '1.0.0', 'download'));
    assert.equal(first.status, 404, first.body.toString('utf8'));
    const asked = git.count('info/refs') - before;
    assert.ok(asked >= 1, 'the host was asked once');
    const second = await rawRequest(p.url, modulePath('gone', '1.0.0', 'download'));
    assert.equal(second.status, 404);
    assert.match(second.body.toString('utf8'), /earlier/);
    assert.equal(git.count('info/refs') - before, asked, 'not asked again');
  });
});
