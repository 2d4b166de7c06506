/**
 * Private packages: the client's token is what reads them (regcache asks
 * anonymously first, and never sends the token for public packages' metadata);
 * once a package is known private, its packuments and tarballs, cached or
 * not, are served only to clients whose token upstream accepts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CORGI, startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { get, installed, makeProject, npm, startNpmCache, storedTarballs } from './support.js';

void describe('npm mode: private packages', { timeout: 300_000 }, () => {
  let o: NpmOrigin;
  let p: RegcacheProcess;
  let registry: string;
  before(async () => {
    o = await startNpmOrigin();
    p = await startNpmCache(o);
    registry = `${p.url}/npm/`;
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('npm without a token cannot install a private package', async () => {
    const project = await makeProject({ '@private/secret': '1.0.0' });
    const r = await npm(project, registry, ['install']);
    assert.notEqual(r.code, 0);
    assert.equal(o.tarballRequests('/@private/'), 0);
  });

  void it('npm with a token upstream accepts installs it; the token reaches only the registry, only for what needs it', async () => {
    const project = await makeProject({ '@private/secret': '1.0.0', 'chain-c': '^1.0.0' });
    const r = await npm(project, registry, ['install'], { token: o.token });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await installed(project, '@private/secret')).version, '1.0.0');
    const privateSeen = o.requests.filter((q) => q.path.startsWith('/@private/') && q.status === 200);
    assert.ok(privateSeen.length >= 2, 'packument and tarball read with the token');
    for (const q of privateSeen) assert.equal(q.headers.authorization, `Bearer ${o.token}`);
    for (const q of o.requests.filter((x) => x.path === '/chain-c')) assert.equal(q.headers.authorization, undefined, 'public metadata read anonymously');
    assert.equal((await storedTarballs(p.dataDir)).filter((f) => f.includes('secret')).length, 1);
  });

  void it('what is cached stays invisible to clients without an accepted token', async () => {
    const v = o.version('@private/secret', '1.0.0');
    const tarballsBefore = o.tarballRequests();
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }]) {
      const doc = await get(`${registry}@private%2fsecret`, { accept: CORGI, ...headers });
      assert.equal(doc.status, 401, JSON.stringify(headers));
      assert.doesNotMatch(doc.body.toString(), /secret-1\.0\.0/);
      const tgz = await get(`${registry}@private/secret/-/secret-1.0.0.tgz`, headers);
      assert.equal(tgz.status, 401);
      assert.ok(!tgz.body.equals(v.tarball));
      const tags = await get(`${registry}-/package/@private%2fsecret/dist-tags`, headers);
      assert.equal(tags.status, 401);
    }
    const ok = await get(`${registry}@private/secret/-/secret-1.0.0.tgz`, { authorization: `Bearer ${o.token}` });
    assert.equal(ok.status, 200);
    assert.ok(ok.body.equals(v.tarball));
    assert.equal(o.tarballRequests(), tarballsBefore, 'the cached tarball served, upstream asked only about the token');
    const project = await makeProject({ '@private/secret': '1.0.0' });
    const r = await npm(project, registry, ['install']);
    assert.notEqual(r.code, 0, 'npm without a token still fails with the package cached');
  });
});
