/**
 * Hostile requests to a `tofu_oci` listener: bad repository names, tags
 * and digests, hosts not configured, digests regcache never generated, and
 * another repository's digests are answered 4xx (JSON) with no upstream
 * request; a tampered zip or a bad SHA256SUMS signature upstream fails the
 * tag (502) and nothing is stored, so the next good answer is downloaded.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { inspectRaw, parsed, PLATFORMS, REPO, startTofuOci, type Index, type Manifest, type TofuOciSetup } from './support.js';

const ZERO = `sha256:${'0'.repeat(64)}`;

/** A GET with the path sent exactly as written (fetch would resolve `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

void describe('tofu_oci: hostile requests and upstream tampering', () => {
  let s: TofuOciSetup;
  before(async () => {
    s = await startTofuOci();
  });
  after(async () => {
    await s.stop();
  });

  void it('refuses hostile names, tags and digests with 4xx and no upstream request', async () => {
    s.origin.reset();
    const cases: Array<[string, number]> = [
      ['/v2/providers/evil.example/acme/widget/tags/list', 404],
      ['/v2/providers/169.254.169.254/acme/widget/manifests/1.0.0', 404],
      ['/v2/providers/registry.terraform.io/acme/widget/manifests/latest', 400],
      ['/v2/providers/registry.terraform.io/acme/widget/manifests/1.0.0_1_2', 400],
      ['/v2/providers/registry.terraform.io/acme/widget/manifests/1.0.0%2B1', 400],
      ['/v2/providers/registry.terraform.io/acme/widget/manifests/01.0.0', 400],
      [`/v2/providers/registry.terraform.io/acme/widget/manifests/${ZERO}`, 404],
      [`/v2/providers/registry.terraform.io/acme/widget/blobs/${ZERO}`, 404],
      [`/v2/providers/registry.terraform.io/acme/widget/blobs/sha512:${'a'.repeat(128)}`, 404],
      ['/v2/providers/registry.terraform.io/acme/widget/blobs/sha256:XYZ', 400],
      ['/v2/providers/registry.terraform.io/acme/widget/blobs/md5:abc', 400],
      ['/v2/providers/registry.terraform.io/%2e%2e/widget/tags/list', 400],
      ['/v2/providers/registry.terraform.io/../widget/tags/list', 400],
      ['/v2/providers/registry.terraform.io/acme/wid%2Fget/tags/list', 400],
      ['/v2/providers/registry.terraform.io/ACME/widget/tags/list', 400],
      ['/v2/other/registry.terraform.io/acme/widget/tags/list', 404],
      ['/v2/providers/registry.terraform.io/acme/widget/extra/tags/list', 404],
      ['/v2/registry.terraform.io/acme/widget/tags/list', 404],
      [`/v2/providers/registry.terraform.io/acme/widget/referrers/${ZERO}`, 404],
      ['/v2/providers/registry.terraform.io/acme/widget/blobs/uploads/', 400],
      ['/v1/mirror/registry.terraform.io/acme/widget/index.json', 404],
    ];
    for (const [path, status] of cases) {
      const res = await rawGet(s.url, path);
      assert.equal(res.status, status, `${path}: ${res.text}`);
      assert.match(res.type, /json/, path);
    }
    assert.deepEqual(s.origin.requests, [], 'no upstream request for any of them');
  });

  void it('answers a digest only in the repository it was generated for', async () => {
    const index = parsed<Index>(await inspectRaw(s.host, `${REPO}:1.0.0`));
    const d = index.manifests[0];
    assert.ok(d);
    const m = parsed<Manifest>(await inspectRaw(s.host, `${REPO}@${d.digest}`));
    const layer = m.layers[0]?.digest ?? '';
    s.origin.reset();
    const other = 'providers/registry.terraform.io/acme/other';
    for (const path of [`/v2/${other}/manifests/${d.digest}`, `/v2/${other}/blobs/${layer}`]) {
      const res = await fetch(`${s.url}${path}`);
      await res.arrayBuffer();
      assert.equal(res.status, 404, path);
    }
    assert.deepEqual(s.origin.requests, []);
    const own = await fetch(`${s.url}/v2/${REPO}/blobs/${layer}`);
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('docker-content-digest'), layer);
    await own.arrayBuffer();
  });

  void it('refuses a tampered zip: 502, nothing stored, the good zip is downloaded afterwards', async () => {
    await s.origin.addProvider({ namespace: 'acme', type: 'gadget', versions: [{ version: '3.1.0', platforms: PLATFORMS }] });
    const repo = 'providers/registry.terraform.io/acme/gadget';
    s.origin.setFault(/\.zip$/, { kind: 'wrongShasum' });
    const res = await fetch(`${s.url}/v2/${repo}/manifests/3.1.0`);
    assert.equal(res.status, 502, await res.text());
    const bad = await inspectRaw(s.host, `${repo}:3.1.0`);
    assert.notEqual(bad.code, 0);
    s.origin.clearFaults();
    s.origin.reset();
    const index = parsed<Index>(await inspectRaw(s.host, `${repo}:3.1.0`));
    assert.equal(s.origin.count(/\.zip$/, 'GET'), PLATFORMS.length, 'every zip downloaded again: the tampered ones were not stored');
    for (const d of index.manifests) {
      const m = parsed<Manifest>(await inspectRaw(s.host, `${repo}@${d.digest}`));
      const res2 = await fetch(`${s.url}/v2/${repo}/blobs/${m.layers[0]?.digest ?? ''}`);
      const bytes = Buffer.from(await res2.arrayBuffer());
      assert.ok(d.platform);
      assert.ok(bytes.equals(s.origin.zipBytes('acme', 'gadget', '3.1.0', d.platform.os, d.platform.architecture)));
    }
  });

  void it('refuses a SHA256SUMS with a bad signature: 502, no manifest generated', async () => {
    await s.origin.addProvider({ namespace: 'acme', type: 'gizmo', versions: [{ version: '0.9.0', platforms: PLATFORMS.slice(0, 1) }] });
    const repo = 'providers/registry.terraform.io/acme/gizmo';
    s.origin.setFault(/\.sig$/, { kind: 'badSignature' });
    const res = await fetch(`${s.url}/v2/${repo}/manifests/0.9.0`);
    assert.equal(res.status, 502, await res.text());
    assert.equal(s.origin.count(/gizmo.*\.zip$/, 'GET'), 0, 'no zip fetched for an unverified SHA256SUMS');
    s.origin.clearFaults();
    const good = await fetch(`${s.url}/v2/${repo}/manifests/0.9.0`);
    assert.equal(good.status, 200, await good.text());
    assert.equal(s.origin.count(/gizmo.*\.zip$/, 'GET'), 1);
  });
});
