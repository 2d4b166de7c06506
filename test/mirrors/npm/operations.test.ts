/**
 * The npm instance in regcache's operations: the admin listing names cached
 * tarballs as packages with their versions (private ones marked), a purge by
 * package name drops its packuments and tarballs (they are fetched again)
 * and nothing else, and a purge never forgets that a package is private.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CORGI, startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { get, startNpmCache } from './support.js';

const TOKEN = 'npm-mode-admin-token-0123456789';

interface Listing { instances: Array<{ instance: string; mode: string; items: Array<{ kind: string; name: string; version: string; private?: boolean }> }> }

void describe('npm mode: listing and purge', { timeout: 120_000 }, () => {
  let o: NpmOrigin;
  let p: RegcacheProcess;
  let base: string;
  const admin = async (method: string, path: string): Promise<unknown> => {
    const res = await fetch(`${p.url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200, `${method} ${path}`);
    return res.json();
  };
  before(async () => {
    o = await startNpmOrigin();
    p = await startNpmCache(o, {}, { admin: { token: TOKEN } });
    base = `${p.url}/npm`;
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('lists cached tarballs as packages and purges one package', async () => {
    for (const [name, version] of [['chain-c', '1.0.0'], ['@acme/widget', '2.0.0'], ['lite-pad', '1.0.0']] as const) {
      assert.equal((await get(`${base}${o.version(name, version).path}`)).status, 200);
    }
    const secret = await get(`${base}${o.version('@private/secret', '1.0.0').path}`, { authorization: `Bearer ${o.token}` });
    assert.equal(secret.status, 200);
    const listing = (await admin('GET', '/admin/cache')) as Listing;
    const mine = listing.instances.find((i) => i.instance === 'npmjs');
    assert.equal(mine?.mode, 'npm');
    assert.deepEqual(mine?.items.map((i) => [i.kind, i.name, i.version, i.private ?? false]).sort(), [
      ['package', '@acme/widget', '2.0.0', false],
      ['package', '@private/secret', '1.0.0', true],
      ['package', 'chain-c', '1.0.0', false],
      ['package', 'lite-pad', '1.0.0', false],
    ]);
    const n = { tgz: o.count(o.version('@acme/widget', '2.0.0').path), doc: o.count('/@acme/widget'), other: o.count(o.version('chain-c', '1.0.0').path) };
    await admin('DELETE', '/admin/purge/npmjs/@acme/widget');
    assert.equal((await get(`${base}${o.version('@acme/widget', '2.0.0').path}`)).status, 200);
    assert.equal((await get(`${base}${o.version('chain-c', '1.0.0').path}`)).status, 200);
    assert.equal(o.count(o.version('@acme/widget', '2.0.0').path), n.tgz + 1, 'purged: fetched again');
    assert.ok(o.count('/@acme/widget') > n.doc, 'its packument too');
    assert.equal(o.count(o.version('chain-c', '1.0.0').path), n.other, 'other packages kept');
  });

  void it('after a purge a private package is still refused to anonymous clients; a hostile purge path is refused', async () => {
    await admin('DELETE', '/admin/purge/npmjs/@private/secret');
    const anonymous = await get(`${base}/@private%2fsecret`, { accept: CORGI });
    assert.equal(anonymous.status, 401);
    const hostile = await fetch(`${p.url}/admin/purge/npmjs/..%2f..`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.ok(hostile.status >= 400 && hostile.status < 500);
  });
});
