/**
 * The `tofu_oci` mode end to end with the real skopeo: tags, the image
 * index and per-platform manifests (`inspect --raw`), `copy --all` into an
 * OCI layout, layer bytes identical to the origin's zips and layer digests
 * equal to the signed `zh:` values; a cold pull downloads each zip once, a
 * warm pull makes no upstream request at all.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyAll, inspectRaw, layoutBlob, parsed, PLATFORMS, REPO, HOST, NS, TYPE, skopeo, startTofuOci, type Index, type Manifest, type TofuOciSetup } from './support.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

void describe('tofu_oci: providers pulled with skopeo', () => {
  let s: TofuOciSetup;
  before(async () => {
    s = await startTofuOci();
  });
  after(async () => {
    await s.stop();
  });

  void it('lists versions as tags, + written _', async () => {
    const run = await skopeo('list-tags', '--tls-verify=false', `docker://${s.host}/${REPO}`);
    const out = parsed<{ Tags: string[] }>(run);
    assert.deepEqual(out.Tags, ['1.0.0', '2.0.0-rc.1_build.7']);
  });

  void it('cold pull: one download per zip, bytes identical, digests = signed zh: values', async () => {
    s.origin.reset();
    const raw = await inspectRaw(s.host, `${REPO}:1.0.0`);
    const index = parsed<Index>(raw);
    assert.equal(s.origin.count(/\.zip$/, 'GET'), PLATFORMS.length, 'each platform zip downloaded once');
    assert.equal(index.manifests.length, PLATFORMS.length);
    const dir = join(await mkdtemp(join(tmpdir(), 'regcache-tofu-oci-')), 'layout');
    const copy = await copyAll(s.host, `${REPO}:1.0.0`, dir);
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(s.origin.count(/\.zip$/, 'GET'), PLATFORMS.length, 'the copy was served from the cache');
    const zh: Record<string, string> = {};
    for (const d of index.manifests) {
      const m = parsed<Manifest>(await inspectRaw(s.host, `${REPO}@${d.digest}`));
      const copied = await layoutBlob(dir, d.digest);
      assert.equal(sha(copied), d.digest, 'manifest bytes match the index digest');
      assert.equal(copied.length, d.size);
      const layer = m.layers[0];
      assert.ok(layer && d.platform);
      const upstream = s.origin.zipBytes(NS, TYPE, '1.0.0', d.platform.os, d.platform.architecture);
      const bytes = await layoutBlob(dir, layer.digest);
      assert.ok(bytes.equals(upstream), 'layer bytes identical to the origin zip');
      assert.equal(layer.digest, sha(upstream));
      assert.equal(layer.size, upstream.length);
      zh[`${d.platform.os}_${d.platform.architecture}`] = layer.digest.replace('sha256:', 'zh:');
    }
    // The terraform mode's network mirror publishes the zh: hashes read from the signed SHA256SUMS.
    const res = await fetch(`${s.proc.url}/v1/mirror/${HOST}/${NS}/${TYPE}/1.0.0.json`);
    const mirror = (await res.json()) as { archives: Record<string, { hashes: string[] }> };
    for (const [plat, h] of Object.entries(zh)) assert.ok(mirror.archives[plat]?.hashes.includes(h), `${plat}: ${h} is the signed zh: value`);
  });

  void it('warm pull: no upstream request at all, same bytes', async () => {
    s.origin.reset();
    const dir = join(await mkdtemp(join(tmpdir(), 'regcache-tofu-oci-')), 'layout');
    const copy = await copyAll(s.host, `${REPO}:1.0.0`, dir);
    assert.equal(copy.code, 0, copy.stderr);
    assert.deepEqual(s.origin.requests, [], 'warm: 0 upstream requests');
    const index = parsed<Index>(await inspectRaw(s.host, `${REPO}:1.0.0`));
    for (const d of index.manifests) {
      const m = JSON.parse((await layoutBlob(dir, d.digest)).toString()) as Manifest;
      const layer = m.layers[0];
      assert.ok(layer && d.platform);
      assert.ok((await layoutBlob(dir, layer.digest)).equals(s.origin.zipBytes(NS, TYPE, '1.0.0', d.platform.os, d.platform.architecture)));
    }
    assert.deepEqual(s.origin.requests, []);
  });

  void it('parallel cold pulls of one tag: one download per zip, one digest', async () => {
    await s.origin.addProvider({ namespace: NS, type: 'sprocket', versions: [{ version: '0.1.0', platforms: PLATFORMS }] });
    s.origin.reset();
    const repo = `providers/${HOST}/${NS}/sprocket`;
    const runs = await Promise.all(Array.from({ length: 6 }, () => inspectRaw(s.host, `${repo}:0.1.0`)));
    const digests = new Set(runs.map((r) => sha(r.stdout)));
    for (const r of runs) assert.equal(parsed<Index>(r).manifests.length, PLATFORMS.length);
    assert.equal(digests.size, 1, 'every client got the same index bytes');
    assert.equal(s.origin.count(/sprocket.*\.zip$/, 'GET'), PLATFORMS.length, 'one upstream download per zip');
  });

  void it('a version with build metadata is served at its _ tag', async () => {
    const index = parsed<Index>(await inspectRaw(s.host, `${REPO}:2.0.0-rc.1_build.7`));
    assert.equal(index.manifests.length, 1);
    const d = index.manifests[0];
    assert.ok(d);
    const m = parsed<Manifest>(await inspectRaw(s.host, `${REPO}@${d.digest}`));
    assert.equal(m.layers[0]?.digest, sha(s.origin.zipBytes(NS, TYPE, '2.0.0-rc.1+build.7', 'linux', 'amd64')));
  });

  void it('manifests are stable bytes: HEAD and GET agree on Docker-Content-Digest', async () => {
    const url = `${s.url}/v2/${REPO}/manifests/1.0.0`;
    const accept = 'application/vnd.oci.image.index.v1+json';
    const a = await fetch(url, { headers: { accept } });
    const body = Buffer.from(await a.arrayBuffer());
    const head = await fetch(url, { method: 'HEAD', headers: { accept } });
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), accept);
    assert.equal(a.headers.get('docker-content-digest'), sha(body));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), sha(body));
    assert.equal(head.headers.get('content-length'), String(body.length));
    const again = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok(again.equals(body));
    const blob = await fetch(`${s.url}/v2/${REPO}/blobs/${(JSON.parse(body.toString()) as Index).manifests[0]?.digest ?? ''}`);
    assert.equal(blob.status, 404, 'a manifest digest is not a blob');
    await blob.arrayBuffer();
  });
});
