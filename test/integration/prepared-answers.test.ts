/**
 * Prepared answers (src/http/prepared.ts) seen from a client: a repeated
 * metadata request gets exactly what the composed answer was, answers that
 * carry this server's URL stay per Host, a purge is seen by the very next
 * request, and nothing private is ever replayed to a client without
 * credentials.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, jsonOf, type RawResponse } from './http-client.js';
import { startHarness, type Harness } from './harness.js';

const PLATFORMS = [{ os: 'linux', arch: 'amd64' }];
const TOKEN = 'admin-token-prepared-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MIRROR = '/v1/mirror/registry.terraform.io';
const REGISTRY = '/v1/providers/registry.terraform.io';

let h: Harness;

const versionsOf = (r: RawResponse): string[] => Object.keys(jsonOf<{ versions: Record<string, object> }>(r).versions).sort();

void describe('prepared answers to repeated metadata requests', () => {
  before(async () => {
    h = await startHarness({
      providers: [
        { namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: PLATFORMS }] },
        { namespace: 'acme', type: 'private', versions: [{ version: '2.0.0', platforms: PLATFORMS }], token: 'sekrit' },
      ],
      extra: { admin: { token: TOKEN } },
    });
  });
  after(async () => {
    await h?.stop();
  });

  void it('a repeated index.json, {version}.json or versions answer is identical to the composed one, GET and HEAD', async () => {
    for (const target of [`${MIRROR}/hashicorp/random/index.json`, `${MIRROR}/hashicorp/random/3.6.0.json`, `${REGISTRY}/hashicorp/random/versions`]) {
      const first = await h.get(target);
      assert.equal(first.status, 200, target);
      const originBefore = h.origin.requests.length;
      for (let i = 0; i < 3; i++) {
        const again = await h.get(target);
        assert.equal(again.status, 200, target);
        assert.ok(again.body.equals(first.body), `${target}: same body`);
        for (const name of ['content-type', 'content-length', 'cache-control']) assert.equal(again.headers[name], first.headers[name], `${target}: same ${name}`);
        const head = await h.get(target, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0, 'HEAD has no body');
        assert.equal(head.headers['content-length'], first.headers['content-length']);
      }
      assert.equal(h.origin.requests.length, originBefore, `${target}: repeats ask nothing upstream`);
    }
    const hits = h.logs.filter((l) => l.msg === 'request' && l.path === `${MIRROR}/hashicorp/random/index.json` && l.cache === 'hit');
    assert.ok(hits.length >= 6, 'repeats are logged as cache hits');
  });

  void it('answers that carry this server URL are kept per Host', async () => {
    const target = `${REGISTRY}/hashicorp/random/3.6.0/download/linux/amd64`;
    const urlFor = async (host: string): Promise<string> => {
      const r = await h.get(target, { headers: { host } });
      assert.equal(r.status, 200, r.body.toString());
      return jsonOf<{ download_url: string }>(r).download_url;
    };
    for (let i = 0; i < 2; i++) {
      assert.ok((await urlFor('a.example:8443')).startsWith('http://a.example:8443/v1/providers/'));
      assert.ok((await urlFor('b.example:9443')).startsWith('http://b.example:9443/v1/providers/'));
    }
  });

  void it('a purge is seen by the very next request', async () => {
    const index = `${MIRROR}/hashicorp/random/index.json`;
    assert.deepEqual(versionsOf(await h.get(index)), ['3.6.0']);
    await h.origin.addProvider({ namespace: 'hashicorp', type: 'random', versions: [{ version: '3.7.0', platforms: PLATFORMS }] });
    assert.deepEqual(versionsOf(await h.get(index)), ['3.6.0'], 'fresh cached versions are still served');
    const purged = await h.get(`${MIRROR}/hashicorp/random?only=metadata`, { method: 'DELETE', headers: AUTH });
    assert.equal(purged.status, 200, purged.body.toString());
    assert.deepEqual(versionsOf(await h.get(index)), ['3.6.0', '3.7.0']);
    assert.deepEqual(versionsOf(await h.get(index)), ['3.6.0', '3.7.0']);
  });

  void it('private answers are never replayed: the same request without credentials is refused', async () => {
    const auth = { authorization: 'Bearer sekrit' };
    for (const target of [`${MIRROR}/acme/private/index.json`, `${MIRROR}/acme/private/2.0.0.json`, `${REGISTRY}/acme/private/versions`, `${REGISTRY}/acme/private/2.0.0/download/linux/amd64`]) {
      for (let i = 0; i < 3; i++) {
        const ok = await h.get(target, { headers: auth });
        assert.equal(ok.status, 200, `${target}: ${ok.body.toString()}`);
      }
      assertJsonError(await h.get(target), 401, /ERR_(UPSTREAM_)?UNAUTHORIZED/, `${target} without credentials`);
      assertJsonError(await h.get(target, { headers: { authorization: 'Bearer wrong' } }), 401, /ERR_(UPSTREAM_)?UNAUTHORIZED/, `${target} with wrong credentials`);
    }
  });
});
