/**
 * Hostile requests to the `oci` listener: names, tags, digests and queries
 * that are not what the distribution spec allows, algorithms regcache
 * cannot verify, a registry a client names in `?ns=` that is not
 * configured, uploads. Each is answered 4xx with regcache's JSON error and
 * makes no upstream request at all. A client's Authorization never
 * reaches the upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, rawRequest } from '../../integration/http-client.js';
import { startOciCache, startUpstream, type OciCache, type Upstream } from './support.js';

const HEX = 'a'.repeat(64);
let up: Upstream;
let rc: OciCache;

const HOSTILE: Array<[string, number, string]> = [
  ['/v2/Library/Demo/manifests/v1', 400, 'upper-case repository'],
  ['/v2/library/demo%20x/manifests/v1', 400, 'space in a name'],
  ['/v2/library/-demo/manifests/v1', 400, 'component starting with a separator'],
  ['/v2/library/demo/manifests/-v1', 400, 'tag starting with a dash'],
  [`/v2/library/demo/manifests/${'t'.repeat(129)}`, 400, 'tag too long'],
  ['/v2/library/demo/manifests/sha256:abc', 400, 'short digest'],
  [`/v2/library/demo/manifests/sha256:${HEX.toUpperCase()}`, 400, 'upper-case hex'],
  [`/v2/library/demo/manifests/md5:${'a'.repeat(32)}`, 400, 'algorithm not verifiable'],
  [`/v2/library/demo/blobs/sha384:${'a'.repeat(96)}`, 400, 'sha384 blob'],
  [`/v2/library/demo/blobs/sha512:${'a'.repeat(127)}`, 400, 'sha512 one hex short'],
  ['/v2/library/demo/blobs/latest', 400, 'blob by tag'],
  ['/v2/library/demo/blobs/uploads', 400, 'upload path'],
  [`/v2/library/demo/referrers/sha256:${'z'.repeat(64)}`, 400, 'referrers of a non-hex digest'],
  ['/v2/a/b/c/d/e/f/g/h/i/manifests/v1', 400, 'repository deeper than a key holds'],
  ['/v2/library/demo/tags/list?n=ten', 400, 'n not a number'],
  ['/v2/library/demo/tags/list?last=..%2Fx', 400, 'last not a tag'],
  ['/v2/library/%2e%2e/manifests/v1', 400, 'dot-dot component'],
  ['/v2/library/demo%2Fx/manifests/v1', 400, 'encoded slash'],
  ['/v2/library/demo/manifests/v1?ns=evil.example.com', 404, 'ns not configured'],
  ['/v2/library/demo/manifests/v1?ns=a&ns=b', 400, 'ns twice'],
  ['/v2/library/demo', 404, 'no endpoint'],
  ['/v1/library/demo/manifests/v1', 404, 'not the v2 API'],
  ['/v2/_catalog', 404, 'catalog not served'],
];

void describe('oci mode: hostile requests', { timeout: 120_000 }, () => {
  before(async () => {
    up = await startUpstream();
    rc = await startOciCache(up.relay.url, { default_policy: 'immutable' });
  });
  after(async () => {
    await rc?.stop();
    await up?.close();
  });

  void it('answers every hostile name, digest and query 4xx with a JSON error and no upstream request', async () => {
    const before = up.relay.log.length;
    for (const [target, status, what] of HOSTILE) {
      const res = await rawRequest(rc.url, target);
      assertJsonError(res, status, /^ERR_/, what);
      const head = await rawRequest(rc.url, target, { method: 'HEAD' });
      assert.equal(head.status, status, `HEAD ${what}`);
    }
    const post = await rawRequest(rc.url, '/v2/library/demo/blobs/uploads/', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405, 'uploads are refused');
    assert.deepEqual(up.relay.log.slice(before), [], 'no upstream request for any of them');
  });

  void it('answers /v2/ itself without asking upstream, as a registry does', async () => {
    const before = up.relay.log.length;
    const res = await rawRequest(rc.url, '/v2/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal(up.relay.log.length, before);
  });

  void it('never forwards a client Authorization to the upstream', async () => {
    await up.push('library/creds', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'creds');
    const client = 'Bearer client-secret-token-123';
    const res = await rawRequest(rc.url, '/v2/library/creds/manifests/v1', { headers: { authorization: client } });
    assert.equal(res.status, 200);
    assert.ok(up.relay.log.every((r) => r.authorization !== client));
    assert.ok(!rc.proc.output().includes('client-secret-token-123'));
  });

  void it('an ns naming the configured upstream routes there', async () => {
    await up.push('library/nsroute', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'nsroute');
    const res = await rawRequest(rc.url, `/v2/library/nsroute/manifests/v1?ns=${up.relay.host}`);
    assert.equal(res.status, 200);
  });
});
