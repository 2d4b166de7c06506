/**
 * The sparse protocol as regcache serves it, read with a raw HTTP client:
 * config.json rewritten to this server, a `.crate` asked for straight from
 * a lock file (its index never fetched) still verified against the index
 * cksum, cargo's default `dl` form, a version newer than the fresh index
 * copy, hostile names and paths answered 4xx with no upstream request.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCargoOrigin, type CargoOrigin } from '../../fakes/cargo-origin.js';
import { assertJsonError, jsonOf, rawRequest } from '../../integration/http-client.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { startCargoCache, storedCrates } from './support.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const PLAIN = { server: { tls: false } };

void describe('cargo mode: protocol (regcache on plain HTTP, registry on TLS)', { timeout: 300_000 }, () => {
  let o: CargoOrigin;
  let p: RegcacheProcess;
  before(async () => {
    o = await startCargoOrigin({ tls: true });
    o.publish('alpha', '1.0.0');
    o.publish('serde_like', '1.2.3');
    o.publish('ab', '0.1.0');
    o.publish('x', '3.0.0');
    o.publish('MixedCase', '0.5.0');
    p = await startCargoCache(o, {}, PLAIN);
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('config.json: dl and api point at regcache, nothing names the upstream hosts', async () => {
    const res = await rawRequest(p.url, '/cargo/config.json');
    assert.equal(res.status, 200);
    const cfg = jsonOf<Record<string, unknown>>(res);
    assert.equal(cfg.dl, `${p.url}/cargo/api/v1/crates/{crate}/{version}/download`);
    assert.equal(cfg.api, `${p.url}/cargo`);
    assert.equal(cfg['auth-required'], undefined);
    assert.ok(!res.body.toString().includes(o.dlUrl) && !res.body.toString().includes(o.url));
  });

  void it('a .crate asked for straight from a lock file: the index is loaded first and the bytes verified', async () => {
    const v = o.publish('lockonly', '2.0.0');
    const res = await rawRequest(p.url, '/cargo/api/v1/crates/lockonly/2.0.0/download');
    assert.equal(res.status, 200);
    assert.equal(sha(res.body), v.cksum);
    assert.equal(o.count('index', o.indexPath('lockonly')), 1, 'index loaded by regcache itself');
    assert.equal(o.count('dl', o.dlPath('lockonly', '2.0.0')), 1);
    const again = await rawRequest(p.url, '/cargo/api/v1/crates/lockonly/2.0.0/download');
    assert.equal(sha(again.body), v.cksum);
    assert.equal(o.count('dl', o.dlPath('lockonly', '2.0.0')), 1, 'second answer from the cache');
  });

  void it('wrong bytes for a lock-file download: the client never gets a complete body, nothing is stored', async () => {
    const v = o.publish('wrongbytes', '1.0.0');
    o.fault(o.dlPath('wrongbytes', '1.0.0'), { kind: 'corrupt' });
    const res = await rawRequest(p.url, '/cargo/api/v1/crates/wrongbytes/1.0.0/download');
    assert.ok(res.status >= 500 || !res.complete, `status ${res.status}, complete ${String(res.complete)}`);
    assert.notEqual(sha(res.body), v.cksum);
    assert.deepEqual((await storedCrates(p.dataDir)).filter((f) => f.startsWith('wrongbytes/')), []);
    o.fault(o.dlPath('wrongbytes', '1.0.0'), undefined);
    const ok = await rawRequest(p.url, '/cargo/api/v1/crates/wrongbytes/1.0.0/download');
    assert.equal(sha(ok.body), v.cksum);
  });

  void it('index paths for 1-, 2-, 3- and longer names; names are matched lower-case', async () => {
    for (const name of ['x', 'ab', 'alpha', 'serde_like', 'MixedCase']) {
      const res = await rawRequest(p.url, `/cargo${o.indexPath(name)}`);
      assert.equal(res.status, 200, name);
      const line = JSON.parse(res.body.toString().split('\n')[0] ?? '') as { name: string };
      assert.equal(line.name, name);
    }
    const dl = await rawRequest(p.url, '/cargo/api/v1/crates/MixedCase/0.5.0/download');
    assert.equal(dl.status, 200);
  });

  void it('a version newer than the fresh index copy: the index is asked again once, then the crate served', async () => {
    assert.equal((await rawRequest(p.url, `/cargo${o.indexPath('alpha')}`)).status, 200);
    const v = o.publish('alpha', '1.1.0');
    const before = o.count('index', o.indexPath('alpha'));
    const res = await rawRequest(p.url, '/cargo/api/v1/crates/alpha/1.1.0/download');
    assert.equal(sha(res.body), v.cksum);
    assert.equal(o.count('index', o.indexPath('alpha')), before + 1);
    assertJsonError(await rawRequest(p.url, '/cargo/api/v1/crates/alpha/9.9.9/download'), 404, 'ERR_NOT_FOUND', 'version nobody published');
  });

  void it('versions with pre-release and build metadata (300.1.0+3.1.0) are served', async () => {
    for (const vers of ['300.1.0+3.1.0', '0.2.0-rc.1']) {
      const v = o.publish('meta-data', vers);
      const res = await rawRequest(p.url, `/cargo/api/v1/crates/meta-data/${encodeURIComponent(vers)}/download`);
      assert.equal(res.status, 200, vers);
      assert.equal(sha(res.body), v.cksum);
    }
  });

  void it('hostile names and paths: 4xx JSON errors, no upstream request', async () => {
    const before = o.requests.length;
    const hostile = [
      '/cargo/3/a/..%2f..%2fetc',
      '/cargo/al/ph/../../config.json/x',
      '/cargo/zz/yy/alpha',
      '/cargo/al/ph/ALPHA',
      '/cargo/3/a/a%00b',
      '/cargo/1/ab',
      '/cargo/2/abc',
      `/cargo/aa/aa/${'a'.repeat(65)}`,
      '/cargo/al/ph/alpha/extra',
      '/cargo/-x/-x/-xxx',
      '/cargo/api/v1/crates/..%2f..%2fetc/1.0.0/download',
      '/cargo/api/v1/crates/alpha/1.0/download',
      '/cargo/api/v1/crates/alpha/v1.0.0/download',
      '/cargo/api/v1/crates/alpha/01.0.0/download',
      '/cargo/api/v1/crates/alpha/1.0.0%20/download',
      '/cargo/api/v1/crates/alpha/..%2f1.0.0/download',
      '/cargo/api/v1/crates/al%2Fpha/1.0.0/download',
      '/cargo/api/v1/crates?q=alpha',
      '/cargo/api/v1/crates/alpha/owners',
      '/cargo/api/v1/crates/new',
      '/cargo/index.html',
    ];
    for (const path of hostile) {
      const res = await rawRequest(p.url, path);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.match(String(res.headers['content-type']), /json/, path);
    }
    assertJsonError(await rawRequest(p.url, '/cargo/api/v1/crates/alpha/1.0.0/download', { method: 'PUT' }), 405, 'ERR_METHOD_NOT_ALLOWED');
    assert.deepEqual(o.requests.slice(before).map((r) => r.path), []);
  });

  void it('an unknown crate is a 404 from upstream, passed on and remembered briefly', async () => {
    for (let i = 0; i < 3; i++) assertJsonError(await rawRequest(p.url, '/cargo/no/su/nosuchcrate'), 404, /NOT_FOUND/);
    assert.equal(o.count('index', '/no/su/nosuchcrate'), 1, 'one upstream request for three clients');
  });
});

void describe("cargo mode: upstream dl without markers (cargo's default /{crate}/{version}/download)", { timeout: 120_000 }, () => {
  let o: CargoOrigin;
  let p: RegcacheProcess;
  before(async () => {
    o = await startCargoOrigin({ tls: true, plainDl: true });
    p = await startCargoCache(o, {}, PLAIN);
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('the download goes to <dl>/<crate>/<version>/download on the dl host', async () => {
    const v = o.publish('plain', '0.0.1');
    const res = await rawRequest(p.url, '/cargo/api/v1/crates/plain/0.0.1/download');
    assert.equal(sha(res.body), v.cksum);
    assert.equal(o.count('dl', '/api/v1/crates/plain/0.0.1/download'), 1);
  });
});

void describe('cargo mode: client revalidation of index files', { timeout: 120_000 }, () => {
  let o: CargoOrigin;
  let p: RegcacheProcess;
  before(async () => {
    o = await startCargoOrigin({ tls: true });
    o.publish('kept', '1.0.0');
    p = await startCargoCache(o, {}, PLAIN);
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('an index file the client holds is answered 304 by its ETag; a changed one 200', async () => {
    const first = await rawRequest(p.url, `/cargo${o.indexPath('kept')}`);
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    const again = await rawRequest(p.url, `/cargo${o.indexPath('kept')}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const other = await rawRequest(p.url, `/cargo${o.indexPath('kept')}`, { headers: { 'if-none-match': '"stale"' } });
    assert.equal(other.status, 200);
    assert.ok(other.body.equals(first.body));
  });
});

void describe('cargo mode: the dl host passes the outbound policy', { timeout: 120_000 }, () => {
  let o: CargoOrigin;
  let p: RegcacheProcess;
  before(async () => {
    o = await startCargoOrigin();
    o.publish('plainhttp', '1.0.0');
    p = await startCargoCache(o, {}, PLAIN);
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('a plain-http download host that only config.json named is refused (502), never contacted', async () => {
    assert.equal((await rawRequest(p.url, `/cargo${o.indexPath('plainhttp')}`)).status, 200, 'the configured http upstream is fine');
    assertJsonError(await rawRequest(p.url, '/cargo/api/v1/crates/plainhttp/1.0.0/download'), 502, 'ERR_UPSTREAM_REFUSED');
    assert.equal(o.count('dl', o.dlPath('plainhttp', '1.0.0')), 0);
  });
});

void describe('cargo mode: dl templates with {prefix} and {sha256-checksum}', { timeout: 120_000 }, () => {
  let o: CargoOrigin;
  let p: RegcacheProcess;
  before(async () => {
    o = await startCargoOrigin({ tls: true, dlTemplate: '/blobs/{prefix}/{sha256-checksum}/{crate}-{version}.crate' });
    p = await startCargoCache(o, {}, PLAIN);
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('the markers are expanded as cargo does (prefix keeps the case)', async () => {
    const v = o.publish('TemPlate', '1.0.0');
    const res = await rawRequest(p.url, '/cargo/api/v1/crates/TemPlate/1.0.0/download');
    assert.equal(sha(res.body), v.cksum);
    assert.equal(o.dlPath('TemPlate', '1.0.0'), `/blobs/Te/mP/${v.cksum}/TemPlate-1.0.0.crate`);
    assert.equal(o.count('dl', o.dlPath('TemPlate', '1.0.0')), 1);
  });
});
