/**
 * Parallel cold installs: N `npm install` processes at once through one
 * fresh regcache download every tarball from upstream exactly once. And a
 * cache-proxy configuration file with an `npm` instance runs unchanged,
 * started the README way, its status page showing the `.npmrc` line.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateNpmPackages, startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import { startFromYaml } from '../file/support.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { get, installed, lockOf, makeProject, npm, startNpmCache } from './support.js';

const PARALLEL = 4;
const PACKAGES = 15;

void describe('npm mode: parallel cold installs and a cache-proxy config', { timeout: 300_000 }, () => {
  let o: NpmOrigin;
  let p: RegcacheProcess;
  before(async () => {
    o = await startNpmOrigin({ packages: generateNpmPackages(PACKAGES, 'par') });
    p = await startNpmCache(o);
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it(`${PARALLEL} parallel cold installs cause one upstream download per tarball`, async () => {
    const projects = await Promise.all(Array.from({ length: PARALLEL }, () => makeProject({ 'par-000': '^1.0.0' })));
    const runs = await Promise.all(projects.map((dir) => npm(dir, `${p.url}/npm/`, ['install'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    for (const dir of projects) assert.equal((await installed(dir, 'par-014')).version, '1.0.0');
    const versions = o.allVersions();
    assert.equal(versions.length, PACKAGES);
    for (const v of versions) assert.equal(o.count(v.path), 1, v.path);
  });

  void it('a cache-proxy config file with an npm instance runs unchanged, started the README way', async () => {
    const backend = await mkdtemp(join(tmpdir(), 'regcache-npm-cp-'));
    const server = await startFromYaml(`server:
  bind: 127.0.0.1:0
  backend: ${backend}
instances:
  - name: npmjs
    enabled: true
    npm:
      route: { path: /npm }
      upstream: ${o.url}
      metadata_policy: revalidate
      metadata_fresh_for: 1m
      metadata_busy_policy: stale
      tarball_policy: immutable
`);
    try {
      const project = await makeProject({ 'par-003': '^1.0.0' });
      const r = await npm(project, `${server.url}/npm/`, ['install']);
      assert.equal(r.code, 0, r.stderr);
      const lock = await lockOf(project);
      assert.equal(lock.packages['node_modules/par-003']?.resolved, `${server.url}/npm/par-003/-/par-003-1.0.0.tgz`);
      const page = (await get(`${server.url}/`)).body.toString();
      assert.ok(page.includes(`registry=${server.url}/npm/`), 'the status page shows the .npmrc line');
    } finally {
      await server.stop();
    }
  });
});
