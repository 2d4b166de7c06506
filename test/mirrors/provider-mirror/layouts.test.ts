/**
 * The manifest readers of both layouts against hand-built manifests the
 * registry tests do not produce: what OpenTofu's rules ignore (other
 * artifact types, `os.version` entries, other layers) and what they refuse
 * (no provider artifact, two archives for one platform, not exactly one
 * zip layer).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTargetManifest, parseVersionManifest, zhOf } from '../../../src/mirrors/provider-mirror/layouts.js';
import { tagOf, versionOfTag } from '../../../src/mirrors/provider-mirror/names.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const target = (os: string, architecture: string, digest: string, extra: Record<string, unknown> = {}) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  artifactType: 'application/vnd.opentofu.provider-target',
  digest,
  size: 100,
  platform: { os, architecture, ...extra },
});
const index = (manifests: unknown[], artifactType = 'application/vnd.opentofu.provider') => json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', artifactType, manifests });

void describe('provider_mirror: layouts', () => {
  void it('OpenTofu index: provider-target entries by platform; others and os.version entries ignored', () => {
    const doc = parseVersionManifest(
      index([
        target('linux', 'amd64', D1),
        target('linux', 'amd64', D2, { 'os.version': '6.1' }),
        { ...target('darwin', 'arm64', D2), artifactType: 'application/vnd.example.sbom' },
        target('darwin', 'arm64', D2),
      ]),
    );
    assert.deepEqual(doc, { layout: 'opentofu', targets: [{ platform: 'linux_amd64', digest: D1, size: 100 }, { platform: 'darwin_arm64', digest: D2, size: 100 }] });
  });

  void it('refuses what is no provider, or is ambiguous', () => {
    assert.throws(() => parseVersionManifest(index([target('linux', 'amd64', D1)], 'application/vnd.opentofu.modulepkg')), /not an OpenTofu provider/);
    assert.throws(() => parseVersionManifest(index([target('linux', 'amd64', D1), target('linux', 'amd64', D2)])), /two packages for platform linux_amd64/);
    assert.throws(() => parseVersionManifest(index([target('linux', '../x', D1)])), /invalid platform/);
    assert.throws(() => parseVersionManifest(index([{ ...target('linux', 'amd64', 'md5:abc') }])), /digest/);
    assert.throws(() => parseVersionManifest(json({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json' }, layers: [] })), /neither layout/);
    assert.throws(() => parseVersionManifest(Buffer.from('not json')), /not JSON/);
  });

  void it('the experimental layout: platforms from the layer annotation, other layers ignored', () => {
    const m = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.hashicorp.terraform-provider.config.v1+json', digest: D1, size: 2 },
      layers: [
        { mediaType: 'application/vnd.hashicorp.terraform.provider-package+zip', digest: D1, size: 10, annotations: { 'io.terraform.target-platforms': 'linux_amd64, linux_arm64' } },
        { mediaType: 'application/vnd.hashicorp.terraform.provider-package+zip', digest: D2, size: 20 },
        { mediaType: 'text/plain', digest: D2, size: 20, annotations: { 'io.terraform.target-platforms': 'windows_amd64' } },
      ],
    });
    assert.deepEqual(parseVersionManifest(m), {
      layout: 'seed',
      archives: [
        { platform: 'linux_amd64', digest: D1, size: 10 },
        { platform: 'linux_arm64', digest: D1, size: 10 },
      ],
    });
  });

  void it('a platform manifest has exactly one archive/zip layer; zh: is the sha256 layer digest', () => {
    const layer = { mediaType: 'archive/zip', digest: D1, size: 5 };
    const archive = parseTargetManifest(json({ mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.opentofu.provider-target', layers: [layer, { mediaType: 'text/plain', digest: D2, size: 1 }] }), 'linux_amd64');
    assert.equal(zhOf(archive), `zh:${'a'.repeat(64)}`);
    assert.throws(() => parseTargetManifest(json({ layers: [layer, layer] }), 'linux_amd64'), /2 archive\/zip layers/);
    assert.throws(() => parseTargetManifest(json({ layers: [] }), 'linux_amd64'), /0 archive\/zip layers/);
    assert.equal(zhOf({ platform: 'x_y', digest: `sha512:${'c'.repeat(128)}`, size: 1 }), undefined);
  });

  void it('tags and versions: "+" is written "_", tags that are no version are skipped', () => {
    assert.equal(tagOf('1.2.3+ent.1'), '1.2.3_ent.1');
    assert.equal(versionOfTag('1.2.3_ent.1'), '1.2.3+ent.1');
    assert.equal(versionOfTag('latest'), undefined);
    assert.equal(versionOfTag('v1.2.3'), undefined);
  });
});
