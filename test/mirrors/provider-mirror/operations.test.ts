/**
 * Operating a `provider_mirror` instance: configuration checks
 * (`regcache validate`), the admin listing (providers by version, platforms
 * as variants), purging a provider (its zip is downloaded again), and the
 * status page's `network_mirror` block for this server's URL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OciRelay } from '../../fakes/oci-relay.js';
import { pushOpenTofuProvider } from '../../fakes/provider-mirror-registry.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';
import { blobDownloads, get, initThrough, providerZips, startProviderUpstream, type ProviderUpstream } from './support.js';
import { validateConfig } from '../../cli/run-cli.js';

const TOKEN = 'provider-mirror-admin-token-0123456789';

async function validate(yaml: string): Promise<{ code: number | null; out: string }> {
  const file = join(await mkdtemp(join(tmpdir(), 'regcache-pm-')), 'regcache.yaml');
  await writeFile(file, yaml);
  return validateConfig(file);
}

const block = (extra: string): string => `instances:
  - name: tfoci
    enabled: true
    provider_mirror:
      route: { path: /oci-mirror }
      origin_url: https://registry.example.com/
${extra}`;

let upstream: ProviderUpstream;
let relay: OciRelay;
let regcache: RegcacheProcess;

void describe('provider_mirror: operations', () => {
  before(async () => {
    upstream = await startProviderUpstream();
    relay = upstream.relay;
    await pushOpenTofuProvider(upstream.push, 'terraform-providers/registry.terraform.io/hashicorp/random', '3.6.0', await providerZips('random', '3.6.0'));
    regcache = await startRegcache({
      admin: { token: TOKEN },
      instances: [{ name: 'tfoci', provider_mirror: { route: { path: '/oci-mirror' }, origin_url: relay.url, name_prefix: 'terraform-providers', proxy_packages: true } }],
    });
  });

  after(async () => {
    await regcache?.stop();
    await upstream?.close();
  });

  void it('validates the issue\'s configuration block, and refuses bad values and unknown keys', async () => {
    const ok = await validate(block('      name_prefix: terraform-providers\n      proxy_packages: true\n'));
    assert.equal(ok.code, 0, ok.out);
    for (const [extra, said] of [
      ['      name_prefix: Terraform_Providers/\n', /name_prefix/],
      ['      proxy_packages: "yes"\n', /proxy_packages/],
      ['      token: abc\n', /token/],
    ] as const) {
      const bad = await validate(block(extra));
      assert.notEqual(bad.code, 0, extra);
      assert.match(bad.out, said);
    }
    const noOrigin = await validate('instances:\n  - name: x\n    provider_mirror:\n      route: { path: /m }\n');
    assert.notEqual(noOrigin.code, 0);
    assert.match(noOrigin.out, /origin_url/);
  });

  void it('lists cached providers, purges one (downloaded again), and shows the network_mirror block', async () => {
    const first = await initThrough(regcache, { 'hashicorp/random': '3.6.0' });
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const admin = (method: string, path: string) => get(regcache, path, { authorization: `Bearer ${TOKEN}` }, method);
    const listing = JSON.parse((await admin('GET', '/admin/cache')).body.toString()) as { instances: Array<{ instance: string; mode: string; items: Array<{ kind: string; name: string; version: string; variants: string[] }> }> };
    const mine = listing.instances.find((i) => i.instance === 'tfoci');
    assert.equal(mine?.mode, 'provider_mirror');
    assert.deepEqual(mine?.items.map((i) => [i.kind, i.name, i.version, i.variants]), [['provider', 'registry.terraform.io/hashicorp/random', '3.6.0', ['linux_amd64']]]);

    const blobs = blobDownloads(relay);
    const purged = await admin('DELETE', '/admin/purge/tfoci/registry.terraform.io/hashicorp/random');
    assert.equal(purged.status, 200, purged.body.toString());
    assert.ok((JSON.parse(purged.body.toString()) as { removed: number }).removed >= 1);
    const again = await initThrough(regcache, { 'hashicorp/random': '3.6.0' });
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(blobDownloads(relay), blobs + 1, 'purged: downloaded again');
    const hostile = await admin('DELETE', '/admin/purge/tfoci/registry.terraform.io/a%2Fb');
    assert.ok(hostile.status >= 400 && hostile.status < 500, String(hostile.status));

    const page = (await get(regcache, '/')).body.toString();
    assert.ok(page.includes(`url = &quot;${regcache.url}/oci-mirror/&quot;`) || page.includes(`url = "${regcache.url}/oci-mirror/"`), 'network_mirror block with this server\'s URL');
  });
});
