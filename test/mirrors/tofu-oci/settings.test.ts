/**
 * The `tofu_oci` block: its defaults and refusals, an instance with a
 * custom `repository_prefix` serving at that prefix only, and the status
 * page showing the `oci_mirror` block for the listener's `display_url`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tofuOciSettingsSchema } from '../../../src/mirrors/tofu-oci/settings.js';
import { ociMirrorBlock } from '../../../src/mirrors/tofu-oci/snippets.js';
import { preText } from '../../http/status-helpers.js';
import { inspectRaw, parsed, startTofuOci, type Index, type TofuOciSetup } from './support.js';

void describe('tofu_oci settings', () => {
  void it('defaults: prefix providers, the terraform mode\'s registry keys', () => {
    const s = tofuOciSettingsSchema.parse({});
    assert.equal(s.repository_prefix, 'providers');
    assert.deepEqual(s.upstreams, []);
    assert.equal(s.metadata.ttl, 10 * 60_000);
    assert.equal(tofuOciSettingsSchema.parse({ repository_prefix: '/mirror/tofu/' }).repository_prefix, 'mirror/tofu');
    assert.equal(tofuOciSettingsSchema.parse({ repository_prefix: '' }).repository_prefix, '');
  });

  void it('refuses prefixes that are not OCI repository components, and unknown keys', () => {
    for (const bad of [{ repository_prefix: 'x', module_repository_prefix: 'x' }, { repository_prefix: 'Providers' }, { repository_prefix: 'a//b' }, { repository_prefix: 'a/../b' }, { repository_prefix: 'a/b/c/d/e' }, { colour: 'red' }, { upstreams: [{ host: 'x y' }] }]) {
      assert.equal(tofuOciSettingsSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});

void describe('tofu_oci with a custom prefix and display_url', () => {
  let s: TofuOciSetup;
  before(async () => {
    s = await startTofuOci({ repository_prefix: 'mirror/tofu', display_url: 'https://oci.example.com:5443' });
  });
  after(async () => {
    await s.stop();
  });

  void it('serves at the prefix only', async () => {
    const index = parsed<Index>(await inspectRaw(s.host, 'mirror/tofu/registry.terraform.io/acme/widget:1.0.0'));
    assert.equal(index.artifactType, 'application/vnd.opentofu.provider');
    s.origin.reset();
    const res = await fetch(`${s.url}/v2/providers/registry.terraform.io/acme/widget/manifests/1.0.0`);
    await res.arrayBuffer();
    assert.equal(res.status, 404);
    assert.deepEqual(s.origin.requests, []);
  });

  void it('shows the oci_mirror block on the status page', async () => {
    const page = await (await fetch(`${s.proc.url}/`)).text();
    const block = preText(page, 'snippet-oci-mirror');
    assert.equal(block, ociMirrorBlock('oci.example.com:5443', 'mirror/tofu', ['registry.terraform.io', 'registry.opentofu.org']));
    assert.ok(block.includes('repository_template = "oci.example.com:5443/mirror/tofu/${hostname}/${namespace}/${type}"'));
    assert.ok(block.includes('include             = ["registry.terraform.io/*/*", "registry.opentofu.org/*/*"]'));
    assert.equal(preText(page, 'snippet-oci-module'), 'module "example" {\n  source = "oci://oci.example.com:5443/modules/registry.terraform.io/NAMESPACE/NAME/SYSTEM?tag=1.0.0"\n}');
  });
});
