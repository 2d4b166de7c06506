/**
 * The `pypi` mode's security promises: hostile names and paths are refused
 * (4xx, JSON error) before any upstream request; the files route fetches
 * only what the project's index named (no open proxy), and checks a file
 * asked for before its index was read; a private project is read only with
 * the client's own credential, is never stored, is invisible to clients
 * without it, and that credential never reaches another origin.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { PRIVATE_AUTH, startPypiOrigin, type PypiOrigin } from '../../fakes/pypi-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { fetchText, installedVersion, pipInstall, run, startPypiCache, storedObjects } from './support.js';

let origin: PypiOrigin;
let cache: RegcacheProcess;

void describe('pypi mode: security', { timeout: 300_000 }, () => {
  before(async () => {
    origin = await startPypiOrigin();
    await origin.publish('gamma', '2.0.0');
    cache = await startPypiCache(origin);
  });
  after(async () => {
    await cache?.stop();
    await origin?.close();
  });

  void it('hostile names and paths get a 4xx JSON error and no upstream request', async () => {
    const paths = [
      '/pypi/simple/..%2F..%2Fetc%2Fpasswd/',
      '/pypi/simple/a%00b/',
      '/pypi/simple/-bad-/',
      '/pypi/simple/a%20b/',
      `/pypi/simple/${'a'.repeat(300)}/`,
      '/pypi/simple/%2e%2e/',
      '/pypi/files/gamma/https:%2F%2Fevil.example%2Fx.whl',
      '/pypi/files/gamma/x:y.whl',
      '/pypi/files/gamma/..',
      '/pypi/files/gamma/.hidden',
      '/pypi/files/evil%5Cx/a.whl',
      '/pypi/files/Gamma_X/gamma-2.0.0-py3-none-any.whl',
      '/pypi/files/gamma/gamma-2.0.0-py3-none-any.whl.metadata',
      '/pypi/pypi/a%20b/json',
      '/pypi/simple/',
      '/pypi/elsewhere/x',
    ];
    const before = origin.requests.length;
    for (const path of paths) {
      const args = ['-sS', '-w', '\n%{http_code}', '--path-as-is', '--noproxy', '*', '--cacert', cache.caPath ?? '', `${cache.url}${path}`];
      const r = await run('curl', args);
      const cut = r.stdout.lastIndexOf('\n');
      const status = Number(r.stdout.slice(cut + 1));
      assert.ok(status >= 400 && status < 500, `${path} → ${status}`);
      assert.match(r.stdout.slice(0, cut), /"code":"ERR_[A-Z_]+"/, `${path}: JSON error body`);
    }
    assert.equal(origin.requests.length, before, 'no upstream request for any of them');
  });

  void it('the files route fetches only files the index names (no open proxy)', async () => {
    const files = origin.countPrefix('files', '/');
    const r = await fetchText(cache, '/pypi/files/gamma/evil-1.0-py3-none-any.whl');
    assert.equal(r.status, 404);
    assert.equal(origin.countPrefix('files', '/'), files);
  });

  void it('a file asked for before its index was read loads the index first and is still checked', async () => {
    const [wheel] = await origin.publish('direct', '1.0.0');
    assert.ok(wheel);
    origin.fault('files', origin.pathOf(wheel), { kind: 'corrupt' });
    const bad = await fetchText(cache, `/pypi/files/direct/${wheel.filename}`);
    assert.notEqual(bad.status, 200);
    assert.equal(origin.count('index', '/simple/direct/'), 1, 'the index was loaded for its sha256');
    assert.deepEqual((await storedObjects(cache.dataDir)).filter((s) => s.startsWith('pypi/direct/files/')), []);
    origin.fault('files', origin.pathOf(wheel), undefined);
    const args = ['-sS', '-f', '--noproxy', '*', '--cacert', cache.caPath ?? '', `${cache.url}/pypi/files/direct/${wheel.filename}`];
    const ok = await new Promise<Buffer>((resolve, reject) => {
      execFile('curl', args, { encoding: 'buffer', maxBuffer: 1 << 24 }, (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout)));
    });
    assert.ok(ok.equals(wheel.body), 'the exact wheel bytes');
  });

  void it('a private project is installed only with the credential, never stored, never shown to others', async () => {
    await origin.publish('secret-pkg', '1.0.0', [], { private: true, relative: true });
    const anonymous = await pipInstall(cache, ['secret-pkg']);
    assert.notEqual(anonymous.code, 0, 'no credential, no install');
    const wrong = await pipInstall(cache, ['secret-pkg'], { userinfo: 'alice:wrong' });
    assert.notEqual(wrong.code, 0, 'a wrong credential, no install');
    const allowed = await pipInstall(cache, ['secret-pkg'], { userinfo: 'alice:s3cret' });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(await installedVersion(allowed.target, 'secret_pkg'), '1.0.0');
    assert.ok(origin.requests.some((r) => r.host === 'index' && r.path.startsWith('/packages/') && r.authorization === PRIVATE_AUTH), 'the file was read with the client credential');
    const after = await pipInstall(cache, ['secret-pkg']);
    assert.notEqual(after.code, 0, 'what one client could read is not served to another');
    const page = await fetchText(cache, '/pypi/simple/secret-pkg/');
    assert.equal(page.status, 401);
    assert.doesNotMatch(page.body, /secret_pkg-1\.0\.0/);
    assert.deepEqual((await storedObjects(cache.dataDir)).filter((s) => s.startsWith('pypi/secret-pkg/')), []);
  });

  void it('a client credential never reaches another origin (the file host)', async () => {
    await origin.publish('secret-remote', '1.0.0', [], { private: true });
    const r = await pipInstall(cache, ['secret-remote'], { userinfo: 'alice:s3cret' });
    assert.notEqual(r.code, 0, 'the file host refuses without the credential, which regcache does not forward there');
    assert.ok(origin.countPrefix('files', '/packages/') > 0);
    assert.equal(origin.requests.filter((q) => q.host === 'files' && q.authorization !== undefined).length, 0);
    assert.doesNotMatch(cache.output(), /s3cret|YWxpY2U6czNjcmV0/, 'never logged');
  });
});
