/**
 * The other read endpoints and digests: tags/list (kept for fresh_for,
 * paginated with the registry's Link), referrers (an answer checked for
 * shape; the registry's 404 passed on), and a blob addressed by a sha512
 * digest, verified with sha512 (a tampered one refused).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { noise } from '../../fakes/oci-layout.js';
import { assertJsonError, rawRequest } from '../../integration/http-client.js';
import { PUSHER, startOciCache, startUpstream, type OciCache, type Upstream } from './support.js';

const AMD = [{ os: 'linux', architecture: 'amd64' }];
let up: Upstream;
let rc: OciCache;

/** Pushes one blob by its sha512 digest straight to the registry (monolithic upload with a push token). */
async function pushSha512Blob(repo: string, bytes: Buffer): Promise<string> {
  const digest = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
  const basic = `Basic ${Buffer.from(`${PUSHER.name}:${PUSHER.password}`).toString('base64')}`;
  const tokenRes = await fetch(`${up.token.url}/token?service=${up.token.service}&scope=repository:${repo}:pull,push`, { headers: { authorization: basic } });
  const { token } = (await tokenRes.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const start = await fetch(`${up.registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
  assert.equal(start.status, 202, await start.text());
  const location = new URL(start.headers.get('location') ?? '', up.registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: bytes });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

void describe('oci mode: tags/list, referrers, sha512', { timeout: 180_000 }, () => {
  before(async () => {
    up = await startUpstream();
    rc = await startOciCache(up.relay.url, { default_policy: 'revalidate', fresh_for: '1h' });
  });
  after(async () => {
    await rc?.stop();
    await up?.close();
  });

  void it('tags/list is kept for fresh_for and paginates with the registry Link', async () => {
    await up.push('library/lst', 'v1', AMD, 'lst1');
    await up.push('library/lst', 'v2', AMD, 'lst2');
    const listed = (): number => up.relay.count('GET', /^\/v2\/library\/lst\/tags\/list$/, 200);
    for (let i = 0; i < 2; i++) {
      const res = await rawRequest(rc.url, '/v2/library/lst/tags/list');
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body.toString()), { name: 'library/lst', tags: ['v1', 'v2'] });
    }
    assert.equal(listed(), 1, 'one upstream GET for two requests');
    // docker-registry 2.8 does not paginate tags; a page query is its own entry, asked upstream once.
    const page = await rawRequest(rc.url, '/v2/library/lst/tags/list?n=1');
    assert.equal(page.status, 200);
    assert.equal(listed(), 2);
    // A registry that paginates: its Link (a path on this same API) reaches the client.
    const link = '</v2/library/pg/tags/list?last=a&n=1>; rel="next"';
    up.relay.canned.set('/v2/library/pg/tags/list', { status: 200, headers: { 'content-type': 'application/json', link }, body: Buffer.from('{"name":"library/pg","tags":["a"]}') });
    const paged = await rawRequest(rc.url, '/v2/library/pg/tags/list?n=1');
    assert.equal(paged.headers['link'], link);
    up.relay.canned.set('/v2/library/other/tags/list', { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"name":"library/pg","tags":["a"]}') });
    assertJsonError(await rawRequest(rc.url, '/v2/library/other/tags/list'), 502, 'ERR_UPSTREAM_BAD_RESPONSE', 'a list of another repository');
  });

  void it('referrers: a registry without the API answers 404, one with it is served and kept', async () => {
    const l = await up.push('library/ref', 'v1', AMD, 'ref');
    const missing = await rawRequest(rc.url, `/v2/library/ref/referrers/${l.top}`);
    assertJsonError(missing, 404, 'ERR_UPSTREAM_NOT_FOUND', 'referrers of docker-registry 2.8');
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'b'.repeat(64)}`, size: 10, artifactType: 'application/example' }] }));
    const path = `/v2/library/ref/referrers/${l.images[0]?.config.digest ?? ''}`;
    up.relay.canned.set(path, { status: 200, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: index });
    for (let i = 0; i < 2; i++) {
      const res = await rawRequest(rc.url, path);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/vnd.oci.image.index.v1+json');
      assert.ok(res.body.equals(index));
    }
    assert.equal(up.relay.count('GET', new RegExp(`^${path}$`)), 1);
    const badPath = `/v2/library/ref/referrers/${l.images[0]?.layers[1]?.digest ?? ''}`;
    up.relay.canned.set(badPath, { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"manifests": 3}') });
    assertJsonError(await rawRequest(rc.url, badPath), 502, 'ERR_UPSTREAM_BAD_RESPONSE', 'malformed referrers');
  });

  void it('a blob named by a sha512 digest is verified with sha512; a tampered one is refused', async () => {
    const bytes = noise(150_000, 'sha512-blob');
    const digest = await pushSha512Blob('library/s512', bytes);
    up.relay.tamper = true;
    try {
      const bad = await rawRequest(rc.url, `/v2/library/s512/blobs/${digest}`);
      assert.ok(bad.status >= 500 || !bad.complete, `refused: ${bad.status}`);
    } finally {
      up.relay.tamper = false;
    }
    const good = await rawRequest(rc.url, `/v2/library/s512/blobs/${digest}`);
    assert.equal(good.status, 200);
    assert.ok(good.complete && good.body.equals(bytes));
    assert.equal(good.headers['docker-content-digest'], digest);
    const again = await rawRequest(rc.url, `/v2/library/s512/blobs/${digest}`);
    assert.ok(again.body.equals(bytes));
    assert.equal(up.relay.count('GET', new RegExp(`/blobs/${digest}$`), 200), 2, 'the tampered download and the good one; the third request was a hit');
  });
});
