/**
 * Conformance of the generated artifacts without `tofu`: the index and
 * every platform manifest (read with `skopeo inspect --raw`) validated
 * against the OCI image-spec v1.1.1 JSON schemas (oci-schemas.ts), then the
 * rules of OpenTofu RFC 20241206 "OCI Registries", chapter 4 "Provider
 * installation in OCI" ("Storage in OCI", rules 1–5, and the warning that
 * providers must use index manifests; rfc/20241206-oci-registries/4-providers.md
 * at opentofu/opentofu 1ad46a5b), checked one by one, plus the
 * per-platform artifactType OpenTofu's OCI mirror source expects.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadOciSchemas } from './oci-schemas.js';
import { inspectRaw, NS, parsed, PLATFORMS, REPO, skopeo, startTofuOci, TYPE, type Index, type Manifest, type TofuOciSetup } from './support.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

void describe('tofu_oci: OCI image-spec schemas and the OpenTofu RFC', () => {
  let s: TofuOciSetup;
  let indexRaw: string;
  let index: Index;
  const manifests = new Map<string, { raw: string; m: Manifest }>();
  before(async () => {
    s = await startTofuOci();
    const run = await inspectRaw(s.host, `${REPO}:1.0.0`);
    index = parsed<Index>(run);
    indexRaw = run.stdout;
    for (const d of index.manifests) {
      const r = await inspectRaw(s.host, `${REPO}@${d.digest}`);
      manifests.set(d.digest, { raw: r.stdout, m: parsed<Manifest>(r) });
    }
  });
  after(async () => {
    await s.stop();
  });

  void it('the index and every manifest validate against the image-spec schemas', () => {
    const schemas = loadOciSchemas();
    assert.ok(schemas.index(index), JSON.stringify(schemas.index.errors));
    for (const { m } of manifests.values()) assert.ok(schemas.manifest(m), JSON.stringify(schemas.manifest.errors));
    // The validators can fail: a manifest without layers, an index entry without a digest.
    assert.equal(schemas.manifest({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x/y', size: 2 } }), false);
    assert.equal(schemas.index({ schemaVersion: 2, manifests: [{ mediaType: 'a/b', size: 1 }] }), false);
  });

  void it('the served bytes are what the digests name', () => {
    for (const [digest, { raw, m }] of manifests) {
      assert.equal(sha(raw), digest);
      assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    }
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.ok(indexRaw.length > 0);
  });

  void it('RFC rule 1: each platform is a .zip stored directly in a blob (no tar)', () => {
    for (const { m } of manifests.values()) {
      for (const l of m.layers) assert.ok(!/tar/.test(l.mediaType), l.mediaType);
      assert.equal(m.layers[0]?.annotations?.['org.opencontainers.image.title']?.endsWith('.zip'), true);
    }
  });

  void it('RFC rule 2: one image manifest per platform, with exactly one archive/zip layer, a copy of the official package', () => {
    for (const d of index.manifests) {
      const entry = manifests.get(d.digest);
      assert.ok(entry && d.platform);
      const zips = entry.m.layers.filter((l) => l.mediaType === 'archive/zip');
      assert.equal(zips.length, 1);
      assert.equal(zips[0]?.digest, sha(s.origin.zipBytes(NS, TYPE, '1.0.0', d.platform.os, d.platform.architecture)));
    }
  });

  void it('RFC rule 3: the main manifest is an index with artifactType application/vnd.opentofu.provider, platforms in Go os/arch names', () => {
    assert.equal(index.artifactType, 'application/vnd.opentofu.provider');
    const plats = index.manifests.map((d) => `${d.platform?.os}_${d.platform?.architecture}`).sort();
    assert.deepEqual(plats, PLATFORMS.map((p) => `${p.os}_${p.arch}`).sort());
  });

  void it('RFC rule 4: tags are the semver versions with + written _ (no latest)', async () => {
    const tags = parsed<{ Tags: string[] }>(await skopeo('list-tags', '--tls-verify=false', `docker://${s.host}/${REPO}`)).Tags;
    assert.ok(tags.length > 0);
    for (const t of tags) {
      assert.ok(!t.includes('+'));
      assert.match(t.replace(/_/g, '+'), SEMVER);
    }
    assert.ok(!tags.includes('latest'));
    assert.ok(tags.includes('2.0.0-rc.1_build.7'));
  });

  void it('RFC rule 5: the index lists provider packages only', () => {
    for (const d of index.manifests) {
      assert.equal(d.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.ok(manifests.has(d.digest));
      assert.equal(d.size, Buffer.byteLength(manifests.get(d.digest)?.raw ?? ''));
    }
  });

  void it('RFC warning: providers use multi-platform (index) manifests; each target has artifactType provider-target and the empty config', () => {
    for (const d of index.manifests) {
      assert.equal(d.artifactType, 'application/vnd.opentofu.provider-target');
      const m = manifests.get(d.digest)?.m;
      assert.equal(m?.artifactType, 'application/vnd.opentofu.provider-target');
      assert.equal(m?.config.mediaType, 'application/vnd.oci.empty.v1+json');
      assert.equal(m?.config.digest, sha('{}'));
      assert.equal(m?.config.size, 2);
    }
  });

  void it('the empty config blob is served', async () => {
    const res = await fetch(`${s.url}/v2/${REPO}/blobs/${sha('{}')}`);
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(await res.arrayBuffer()).toString(), '{}');
    assert.equal(res.headers.get('docker-content-digest'), sha('{}'));
  });
});
