/**
 * The npm mode end to end with the real `npm` client over a TLS origin:
 * cold install, warm `npm ci` without upstream tarball requests, install
 * with upstream down, revalidation (304s counted), a new version visible
 * after `metadata_fresh_for`, a tampered tarball refused (nothing stored,
 * the next install succeeds), lock files naming regcache's URLs.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CORGI, startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { get, installed, lockOf, makeProject, npm, sleep, startNpmCache, storedTarballs } from './support.js';

const DEPS = { 'chain-a': '^1.0.0', '@acme/widget': '^2.0.0', 'old-sha1': '*', 'lite-pad': '^1.0.0' };
/** Tarballs the install above needs: chain-a, chain-b, chain-c, widget, old-sha1, lite-pad. */
const TARBALLS = 6;

void describe('npm mode: installs with the npm client', { timeout: 600_000 }, () => {
  let o: NpmOrigin;
  let p: RegcacheProcess;
  let registry: string;
  let project: string;
  before(async () => {
    o = await startNpmOrigin({ tls: true });
    p = await startNpmCache(o);
    registry = `${p.url}/npm/`;
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('a cold install goes through regcache; the lock file names regcache URLs', async () => {
    project = await makeProject(DEPS);
    const r = await npm(project, registry, ['install']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await installed(project, 'chain-c')).version, '1.0.0');
    assert.equal((await installed(project, '@acme/widget')).version, '2.0.0');
    assert.equal((await installed(project, 'lite-pad')).version, '1.1.0');
    const lock = await lockOf(project);
    const resolved = Object.entries(lock.packages).filter(([k]) => k !== '').map(([, v]) => v.resolved ?? '');
    assert.equal(resolved.length, TARBALLS);
    for (const url of resolved) assert.ok(url.startsWith(registry), `${url} names regcache`);
    assert.equal(lock.packages['node_modules/chain-c']?.integrity, o.version('chain-c', '1.0.0').integrity);
    assert.equal(o.tarballRequests(), TARBALLS, 'one upstream request per tarball');
    assert.equal((await storedTarballs(p.dataDir)).length, TARBALLS);
  });

  void it('a warm npm ci (fresh npm cache) makes no upstream tarball request', async () => {
    const before = o.tarballRequests();
    const r = await npm(project, registry, ['ci']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(o.tarballRequests(), before);
    assert.equal((await installed(project, 'old-sha1')).version, '0.1.0');
  });

  void it('installs from cache while upstream is down', async () => {
    await sleep(1100); // past metadata_fresh_for: packuments would be revalidated
    await o.down();
    try {
      const fresh = await makeProject(DEPS);
      const r = await npm(fresh, registry, ['install']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await installed(fresh, 'chain-a')).version, '1.0.0');
    } finally {
      await o.up();
    }
  });

  void it('revalidates packuments past metadata_fresh_for with conditional requests answered 304', async () => {
    await sleep(1100);
    const before = o.conditional('/chain-a');
    const fresh = await makeProject(DEPS);
    const r = await npm(fresh, registry, ['install']);
    assert.equal(r.code, 0, r.stderr);
    const now = o.conditional('/chain-a');
    assert.ok(now.notModified > before.notModified, `304s counted: ${JSON.stringify(now)}`);
  });

  void it('a new upstream version is visible once metadata_fresh_for has passed', async () => {
    await get(`${registry}lite-pad`, { accept: CORGI });
    o.publish('lite-pad', { version: '1.2.0' });
    await sleep(1100);
    const doc = JSON.parse((await get(`${registry}lite-pad`, { accept: CORGI })).body.toString()) as { 'dist-tags': { latest: string } };
    assert.equal(doc['dist-tags'].latest, '1.2.0');
    const fresh = await makeProject({ 'lite-pad': '^1.0.0' });
    const r = await npm(fresh, registry, ['install']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await installed(fresh, 'lite-pad')).version, '1.2.0');
  });

  void it('a tampered tarball is refused, not stored, and the next install succeeds', async () => {
    const v = o.publish('tamper-me', { version: '1.0.0' });
    o.fault(v.path, { kind: 'corrupt' });
    const first = await makeProject({ 'tamper-me': '1.0.0' });
    const bad = await npm(first, registry, ['install']);
    assert.notEqual(bad.code, 0, 'npm fails');
    assert.equal(o.count(v.path), 1);
    assert.deepEqual((await storedTarballs(p.dataDir)).filter((f) => f.includes('tamper-me')), []);
    o.fault(v.path, undefined);
    const second = await makeProject({ 'tamper-me': '1.0.0' });
    const good = await npm(second, registry, ['install']);
    assert.equal(good.code, 0, good.stderr);
    assert.equal((await installed(second, 'tamper-me')).version, '1.0.0');
    assert.equal((await storedTarballs(p.dataDir)).filter((f) => f.includes('tamper-me')).length, 1);
  });

  void it('npm ci from a lock file on an empty cache: every tarball verified, its packument loaded by regcache', async () => {
    const other = await startNpmCache(o);
    try {
      const lockFile = join(project, 'package-lock.json');
      const text = await readFile(lockFile, 'utf8');
      await writeFile(lockFile, text.split(registry).join(`${other.url}/npm/`));
      const before = { tarballs: o.tarballRequests(), chainC: o.count('/chain-c'), widget: o.count('/@acme/widget') };
      const r = await npm(project, `${other.url}/npm/`, ['ci']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(o.tarballRequests() - before.tarballs, TARBALLS);
      assert.ok(o.count('/chain-c') > before.chainC && o.count('/@acme/widget') > before.widget, 'packuments loaded to verify the tarballs');
      assert.equal((await storedTarballs(other.dataDir)).length, TARBALLS);
      await writeFile(lockFile, text);
    } finally {
      await other.stop();
    }
  });
});
