/**
 * The `oci` mode with the real skopeo against Debian's docker-registry
 * (token auth on, through the counting relay), on the filesystem store:
 * multi-arch indexes, cold and warm pulls (a warm pull makes no upstream
 * request at all), byte-exact Content-Type / Docker-Content-Digest, Accept
 * negotiation, a tampered blob refused and nothing stored, N parallel
 * clients of one cold blob sharing one upstream download, and the
 * upstream token cached per scope.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Layout } from '../../fakes/oci-layout.js';
import { rawRequest } from '../../integration/http-client.js';
import { counts, inspectRaw, pull, startOciCache, startUpstream, type OciCache, type Upstream } from './support.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const MULTI = [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }];
const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let up: Upstream;
let rc: OciCache;
let demo: Layout;

/** Every blob of a layout (index, manifests, configs, layers). */
function allBlobs(l: Layout): Array<{ digest: string; bytes: Buffer }> {
  return [...(l.index ? [l.index] : []), ...l.images.flatMap((i) => [i.manifest, i.config, ...i.layers])];
}

void describe('oci mode: skopeo through regcache to docker-registry with token auth', { timeout: 300_000 }, () => {
  before(async () => {
    up = await startUpstream();
    rc = await startOciCache(up.relay.url, { default_policy: 'revalidate', fresh_for: '1h', busy_policy: 'stale' });
    demo = await up.push('library/demo', 'v1', MULTI, 'demo');
  });
  after(async () => {
    await rc?.stop();
    await up?.close();
  });

  void it('a cold pull of a multi-arch index copies every platform, bytes identical to what was pushed', async () => {
    const raw = await inspectRaw(rc.host, 'library/demo:v1');
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(`sha256:${sha(raw.stdout)}`, demo.top, 'the index bytes, unchanged');
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: Array<{ platform: { architecture: string } }> };
    assert.equal(index.mediaType, INDEX);
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture), ['amd64', 'arm64']);
    const p = await pull(rc.host, 'library/demo:v1');
    assert.equal(p.code, 0, p.stderr);
    for (const b of allBlobs(demo)) {
      const got = await readFile(join(p.dir, 'blobs', 'sha256', b.digest.slice('sha256:'.length)));
      assert.ok(got.equals(b.bytes), `blob ${b.digest} identical`);
    }
    const c = counts(up.relay, 'library/demo');
    assert.equal(c.blobGet, 6, 'each of the 2×(config + 2 layers) blobs fetched once');
  });

  void it('a warm pull makes no upstream request at all (0 blob GETs, 0 manifest requests)', async () => {
    const before = up.relay.log.length;
    const p = await pull(rc.host, 'library/demo:v1');
    assert.equal(p.code, 0, p.stderr);
    assert.deepEqual(up.relay.log.slice(before), [], 'nothing reached the upstream');
  });

  void it('manifests keep Content-Type and Docker-Content-Digest byte-exact; tags vary by Accept', async () => {
    const tag = await rawRequest(rc.url, '/v2/library/demo/manifests/v1', { headers: { accept: `${INDEX}, ${MANIFEST}` } });
    assert.equal(tag.status, 200);
    assert.equal(tag.headers['content-type'], INDEX);
    assert.equal(tag.headers['docker-content-digest'], demo.top);
    assert.match(String(tag.headers['vary']), /Accept/i);
    assert.equal(`sha256:${sha(tag.body)}`, demo.top);
    const amd = demo.images[0];
    assert.ok(amd);
    const byDigest = await rawRequest(rc.url, `/v2/library/demo/manifests/${amd.manifest.digest}`, { headers: { accept: MANIFEST } });
    assert.equal(byDigest.status, 200);
    assert.equal(byDigest.headers['content-type'], MANIFEST);
    assert.equal(byDigest.headers['docker-content-digest'], amd.manifest.digest);
    assert.ok(byDigest.body.equals(amd.manifest.bytes));
    const head = await rawRequest(rc.url, '/v2/library/demo/manifests/v1', { method: 'HEAD', headers: { accept: `${INDEX}, ${MANIFEST}` } });
    assert.equal(head.status, 200);
    assert.equal(head.headers['docker-content-digest'], demo.top);
    assert.equal(head.headers['content-length'], String(tag.body.length));
    // Another representation set is another cache entry: one more upstream GET, then none.
    const c0 = counts(up.relay, 'library/demo').manifestGet;
    const other = { accept: `${INDEX}, application/vnd.docker.distribution.manifest.list.v2+json` };
    for (let i = 0; i < 2; i++) {
      const r = await rawRequest(rc.url, '/v2/library/demo/manifests/v1', { headers: other });
      assert.equal(r.status, 200);
      assert.equal(r.headers['docker-content-digest'], demo.top);
    }
    assert.equal(counts(up.relay, 'library/demo').manifestGet - c0, 1);
  });

  void it('blobs carry Docker-Content-Digest; a HEAD of a blob not cached asks upstream with a HEAD only', async () => {
    const l = await up.push('library/heads', 'v1', [MULTI[0] ?? { os: 'linux', architecture: 'amd64' }], 'heads');
    const layer = l.images[0]?.layers[0];
    assert.ok(layer);
    const h = await rawRequest(rc.url, `/v2/library/heads/blobs/${layer.digest}`, { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.headers['docker-content-digest'], layer.digest);
    assert.equal(h.headers['content-length'], String(layer.size));
    assert.deepEqual(counts(up.relay, 'library/heads'), { manifestGet: 0, manifestHead: 0, blobGet: 0 });
    assert.equal(up.relay.count('HEAD', /^\/v2\/library\/heads\/blobs\//, 200), 1);
    assert.equal(up.relay.count('GET', /^\/v2\/library\/heads\/blobs\//), 0, 'no GET at all');
    const g = await rawRequest(rc.url, `/v2/library/heads/blobs/${layer.digest}`);
    assert.ok(g.body.equals(layer.bytes));
    assert.equal(g.headers['docker-content-digest'], layer.digest);
  });

  void it('a tampered blob is refused, nothing is stored, and the next clean download is served', async () => {
    const l = await up.push('library/tamper', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'tamper', 300_000);
    const layer = l.images[0]?.layers[0];
    assert.ok(layer);
    up.relay.tamper = true;
    try {
      const bad = await rawRequest(rc.url, `/v2/library/tamper/blobs/${layer.digest}`);
      assert.ok(bad.status >= 500 || !bad.complete, `refused: ${bad.status} complete=${bad.complete}`);
      assert.ok(!(bad.complete && bad.body.equals(layer.bytes)));
      const p = await pull(rc.host, 'library/tamper:v1');
      assert.notEqual(p.code, 0, 'skopeo fails on the tampered layer');
    } finally {
      up.relay.tamper = false;
    }
    const gets0 = up.relay.count('GET', new RegExp(`/blobs/${layer.digest}$`), 200);
    const good = await rawRequest(rc.url, `/v2/library/tamper/blobs/${layer.digest}`);
    assert.equal(good.status, 200);
    assert.ok(good.complete && good.body.equals(layer.bytes));
    assert.equal(up.relay.count('GET', new RegExp(`/blobs/${layer.digest}$`), 200) - gets0, 1, 'fetched again: the tampered bytes were not stored');
    const p = await pull(rc.host, 'library/tamper:v1');
    assert.equal(p.code, 0, p.stderr);
  });

  void it('N parallel clients of one cold blob cause one upstream download', async () => {
    const l = await up.push('library/herd', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'herd', 1_000_000);
    const layer = l.images[0]?.layers[0];
    assert.ok(layer);
    const gate = up.relay.hold();
    const clients = Array.from({ length: 6 }, () => rawRequest(rc.url, `/v2/library/herd/blobs/${layer.digest}`));
    await gate.arrived;
    // Let every client reach regcache while the one upstream answer is held.
    await new Promise((r) => setTimeout(r, 500));
    gate.release();
    const answers = await Promise.all(clients);
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.ok(a.complete && a.body.equals(layer.bytes));
    }
    assert.equal(up.relay.count('GET', new RegExp(`/blobs/${layer.digest}$`), 200), 1, 'one upstream download');
  });

  void it('runs the token flow once per scope: later requests send the cached token', async () => {
    await up.push('library/tok', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'tok');
    const t0 = up.token.counts().all - 0;
    const before = up.relay.log.length;
    const p = await pull(rc.host, 'library/tok:v1');
    assert.equal(p.code, 0, p.stderr);
    const seen = up.relay.log.slice(before).filter((r) => r.path !== '/token');
    assert.equal(seen.filter((r) => !r.authorized).length, 1, 'only the first request went without a token (and got the 401 challenge)');
    assert.equal(up.relay.log.slice(before).filter((r) => r.path === '/token').length, 1, 'one token request for the scope');
    assert.ok(up.token.counts().all > t0);
  });
});
