/**
 * Private crates (`auth_required: true`): a registry whose private crate
 * answers 401 without its token. cargo with the token installs it through
 * regcache; a client without credentials, or with a wrong one, never sees
 * its index line or its `.crate`, whether or not regcache holds them, and
 * public crates stay public (no credential sent upstream for them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCargoOrigin, type CargoOrigin, type CrateVersion } from '../../fakes/cargo-origin.js';
import { assertJsonError, jsonOf, rawRequest } from '../../integration/http-client.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { cargoProject, install, startCargoCache } from './support.js';

const TOKEN = 'cargo-registry-token-0123456789';

let o: CargoOrigin;
let p: RegcacheProcess;
let hidden: CrateVersion;

void describe('cargo mode: private crates', { timeout: 300_000 }, () => {
  before(async () => {
    o = await startCargoOrigin({ tls: true, token: TOKEN, dlOnIndexHost: true });
    o.publish('open', '1.0.0');
    hidden = o.publish('hidden', '0.4.0', { private: true, deps: [{ name: 'open', req: '1' }] });
    p = await startCargoCache(o, { auth_required: true }, { server: { tls: false } });
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('config.json says auth-required', async () => {
    assert.equal(jsonOf<Record<string, unknown>>(await rawRequest(p.url, '/cargo/config.json'))['auth-required'], true);
  });

  void it('a client without credentials is refused before anything is cached, with no credential tried upstream', async () => {
    assertJsonError(await rawRequest(p.url, `/cargo${o.indexPath('hidden')}`), 401, 'ERR_UNAUTHORIZED');
    assertJsonError(await rawRequest(p.url, '/cargo/api/v1/crates/hidden/0.4.0/download'), 401, 'ERR_UNAUTHORIZED');
    assert.ok(o.requests.every((r) => r.headers.authorization === undefined));
  });

  void it('cargo with the registry token installs the private crate and its public dependency', async () => {
    const project = await cargoProject(p, { hidden: '0.4' }, { token: TOKEN });
    await install(project);
    assert.deepEqual(await project.locked(), ['hidden@0.4.0', 'open@1.0.0']);
    assert.equal(o.count('index', o.dlPath('hidden', '0.4.0')), 1);
  });

  void it('the cached private crate is invisible without credentials and with a wrong one', async () => {
    const before = o.requests.length;
    for (const headers of [{}, { authorization: 'wrong-token' }]) {
      for (const path of [`/cargo${o.indexPath('hidden')}`, '/cargo/api/v1/crates/hidden/0.4.0/download']) {
        const res = await rawRequest(p.url, path, { headers });
        assertJsonError(res, 401, 'ERR_UNAUTHORIZED', path);
        assert.ok(!res.body.toString().includes(hidden.cksum));
      }
    }
    const asked = o.requests.slice(before);
    assert.ok(asked.every((r) => r.headers.authorization === 'wrong-token'), 'only the unknown credential was checked upstream');
    assert.equal(o.count('dl', o.dlPath('hidden', '0.4.0')) + o.count('index', o.dlPath('hidden', '0.4.0')), 1, 'never downloaded again');
    const anonymousCargo = await cargoProject(p, { hidden: '0.4' });
    assert.notEqual((await anonymousCargo.run('generate-lockfile')).code, 0, 'cargo without a token fails');
  });

  void it('the token is accepted again from memory; public crates never carried a credential upstream', async () => {
    const before = o.requests.length;
    const res = await rawRequest(p.url, '/cargo/api/v1/crates/hidden/0.4.0/download', { headers: { authorization: TOKEN } });
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(hidden.crate));
    assert.equal(o.requests.length, before, 'served from the cache');
    const publicPaths = [o.indexPath('open'), o.dlPath('open', '1.0.0')];
    const publicAsks = o.requests.filter((r) => publicPaths.includes(r.path));
    assert.ok(publicAsks.length >= 2 && publicAsks.every((r) => r.headers.authorization === undefined));
    assert.equal((await rawRequest(p.url, '/cargo/api/v1/crates/open/1.0.0/download')).status, 200, 'public crate, no credential');
  });

  void it('no credential reaches the logs', () => {
    assert.ok(!p.output().includes(TOKEN));
    assert.ok(!p.output().includes('wrong-token'));
  });
});

void describe('cargo mode: a private crate whose download lives on another host', { timeout: 120_000 }, () => {
  let r: CargoOrigin;
  let q: RegcacheProcess;
  before(async () => {
    r = await startCargoOrigin({ tls: true, token: TOKEN });
    r.publish('elsewhere', '1.0.0', { private: true });
    q = await startCargoCache(r, { auth_required: true }, { server: { tls: false } });
  });
  after(async () => {
    await q?.stop();
    await r?.close();
  });

  void it('the client token goes to the index origin only, never to the download host', async () => {
    assert.equal((await rawRequest(q.url, `/cargo${r.indexPath('elsewhere')}`, { headers: { authorization: TOKEN } })).status, 200);
    const res = await rawRequest(q.url, '/cargo/api/v1/crates/elsewhere/1.0.0/download', { headers: { authorization: TOKEN } });
    assertJsonError(res, 401, /UNAUTHORIZED/, 'the download host refuses an anonymous download');
    const dl = r.requests.filter((x) => x.host === 'dl');
    assert.equal(dl.length, 1);
    assert.equal(dl[0]?.headers.authorization, undefined);
    assert.ok(r.requests.some((x) => x.host === 'index' && x.headers.authorization === TOKEN), 'the index origin got it');
  });
});
