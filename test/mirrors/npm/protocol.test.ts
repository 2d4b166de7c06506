/**
 * The npm registry protocol through regcache, request by request: full and
 * abbreviated packuments (key per representation, `Vary: Accept`), scoped
 * names in both forms, dist-tags, tarball URLs rewritten, a tarball asked
 * for straight from a lock file (the packument is loaded to verify it),
 * endpoints not served (search, audit, login) and hostile names answered
 * 4xx with no upstream request.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CORGI, startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { get, rawStatus, startNpmCache, storedTarballs } from './support.js';

type Doc = { name: string; time?: unknown; 'dist-tags': Record<string, string>; versions: Record<string, { dist: { tarball: string; integrity?: string; shasum: string } }> };
const parse = (b: Buffer): Doc => JSON.parse(b.toString()) as Doc;

void describe('npm mode: registry protocol', { timeout: 120_000 }, () => {
  let o: NpmOrigin;
  let p: RegcacheProcess;
  let base: string;
  before(async () => {
    o = await startNpmOrigin();
    p = await startNpmCache(o);
    base = `${p.url}/npm`;
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('serves the abbreviated and the full packument by Accept, each cached under its own key, with Vary: Accept', async () => {
    const corgi = await get(`${base}/chain-a`, { accept: `${CORGI}; q=1.0, application/json; q=0.8, */*` });
    assert.equal(corgi.status, 200);
    assert.equal(corgi.headers['content-type'], CORGI);
    assert.match(corgi.headers.vary ?? '', /accept/i);
    assert.equal(parse(corgi.body).time, undefined);
    const full = await get(`${base}/chain-a`, { accept: 'application/json' });
    assert.equal(full.headers['content-type'], 'application/json');
    assert.match(full.headers.vary ?? '', /accept/i);
    assert.ok(parse(full.body).time !== undefined, 'the full document has `time`');
    assert.equal(o.count('/chain-a'), 2, 'one upstream request per representation');
    await get(`${base}/chain-a`, { accept: CORGI });
    await get(`${base}/chain-a`);
    assert.equal(o.count('/chain-a'), 2, 'both served from cache within metadata_fresh_for');
  });

  void it('rewrites every dist.tarball to this server and keeps the integrity data', async () => {
    const doc = parse((await get(`${base}/@acme%2fwidget`, { accept: CORGI })).body);
    const v = doc.versions['2.0.0'];
    assert.equal(v?.dist.tarball, `${base}/@acme/widget/-/widget-2.0.0.tgz`);
    assert.equal(v?.dist.integrity, o.version('@acme/widget', '2.0.0').integrity);
    const tgz = await get(v?.dist.tarball ?? '');
    assert.equal(tgz.status, 200);
    assert.ok(tgz.body.equals(o.version('@acme/widget', '2.0.0').tarball));
  });

  void it('answers both scoped forms and dist-tags', async () => {
    const a = await get(`${base}/@acme%2fwidget`);
    const b = await get(`${base}/@acme/widget`);
    assert.equal(a.status, 200);
    assert.deepEqual(parse(a.body), parse(b.body));
    const tags = await get(`${base}/-/package/@acme%2fwidget/dist-tags`);
    assert.equal(tags.status, 200);
    assert.deepEqual(JSON.parse(tags.body.toString()), { latest: '2.0.0' });
    const plain = await get(`${base}/-/package/lite-pad/dist-tags`);
    assert.deepEqual(JSON.parse(plain.body.toString()), { latest: '1.1.0' });
  });

  void it('verifies a tarball asked for with no packument fetched first, sha512 and sha1-only alike', async () => {
    for (const [name, version] of [['chain-b', '1.0.0'], ['old-sha1', '0.1.0']] as const) {
      const v = o.version(name, version);
      const r = await get(`${base}${v.path}`);
      assert.equal(r.status, 200, name);
      assert.equal(createHash('sha1').update(r.body).digest('hex'), v.shasum);
      assert.equal(o.count(`/${name}`), 1, 'the mode loaded the packument itself');
      assert.equal(o.count(v.path), 1);
    }
    const v = o.publish('direct-bad', { version: '1.0.0' });
    o.fault(v.path, { kind: 'corrupt' });
    const bad = await get(`${base}${v.path}`);
    assert.equal(bad.status, 502, 'refused before any byte went out (a small tarball is held back whole)');
    assert.match(bad.body.toString(), /ERR_INTEGRITY_MISMATCH/);
    assert.deepEqual((await storedTarballs(p.dataDir)).filter((f) => f.includes('direct-bad')), []);
    o.fault(v.path, undefined);
    const good = await get(`${base}${v.path}`);
    assert.equal(good.status, 200);
    assert.ok(good.body.equals(v.tarball));
  });

  void it('a large tampered tarball streams but its last bytes never go out; nothing is stored', async () => {
    const v = o.publish('big-bad', { version: '1.0.0', dataBytes: 1_000_000 });
    assert.ok(v.tarball.length > 900_000);
    o.fault(v.path, { kind: 'corrupt' });
    const cut = await fetch(`${base}${v.path}`).then(
      async (res) => ({ status: res.status, body: Buffer.from(await res.arrayBuffer()) }),
      () => undefined,
    ).catch(() => undefined);
    assert.ok(cut === undefined || cut.status >= 500 || cut.body.length < v.tarball.length, 'the transfer is cut or refused');
    assert.deepEqual((await storedTarballs(p.dataDir)).filter((f) => f.includes('big-bad')), []);
    o.fault(v.path, undefined);
    const good = await get(`${base}${v.path}`);
    assert.equal(good.status, 200);
    assert.ok(good.body.equals(v.tarball));
    assert.equal(o.count(v.path), 2);
  });

  void it('a tarball URL the outbound policy refuses (plain http to another origin) is never contacted', async () => {
    const elsewhere = await startNpmOrigin({ packages: [{ name: 'far-away', versions: [{ version: '1.0.0' }] }] });
    const reg = await startNpmOrigin({ packages: [{ name: 'far-away', versions: [{ version: '1.0.0' }] }], tarballBase: elsewhere.url });
    const other = await startNpmCache(reg);
    try {
      const r = await get(`${other.url}/npm/far-away/-/far-away-1.0.0.tgz`);
      assert.equal(r.status, 502);
      assert.match(r.body.toString(), /ERR_UPSTREAM_REFUSED/);
      assert.equal(elsewhere.requests.length, 0);
      assert.deepEqual(await storedTarballs(other.dataDir), []);
    } finally {
      await other.stop();
      await reg.close();
      await elsewhere.close();
    }
  });

  void it('does not serve search, audit or login, and never asks upstream for them', async () => {
    const before = o.requests.length;
    for (const path of ['/-/v1/search?text=x', '/-/npm/v1/security/advisories/bulk', '/-/user/org.couchdb.user:bob', '/-/whoami', '/-/npm/v1/security/audits/quick']) {
      const r = await get(`${base}${path}`);
      assert.equal(r.status, 404, path);
      assert.match(r.body.toString(), /search, audit, login/);
    }
    const put = await fetch(`${base}/some-package`, { method: 'PUT', body: '{}' });
    assert.ok(put.status === 405 || put.status === 404, `publish refused (${put.status})`);
    assert.equal((await get(`${base}/-/ping`)).status, 200);
    assert.equal(o.requests.length, before);
  });

  void it('answers hostile names and paths 4xx without any upstream request', async () => {
    const before = o.requests.length;
    const hostile = [
      '/..', '/%2e%2e', '/chain-a/..%2f..%2fetc', '/@acme/Widget', '/.hidden', '/_private', '/@acme', '/@/x', '/@ACME/widget', '/@acme%2f..',
      '/a%00b', '/a%0ab', `/${'a'.repeat(215)}`, '/chain-a/-/..', '/chain-a/-/x.tar', '/chain-a/-/%2e%2e.tgz', '/chain-a/-/a%2fb.tgz',
      '/-/package/..%2f/dist-tags', '/node_modules', '/chain-a%20b', '/@acme%2fwidget%2fx',
    ];
    for (const path of hostile) {
      const status = await rawStatus(p.url, `/npm${path}`);
      assert.ok(status >= 400 && status < 500, `${path}: ${status}`);
    }
    assert.equal(o.requests.length, before, 'no upstream request');
  });
});
