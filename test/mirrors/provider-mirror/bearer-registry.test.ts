/**
 * A private repository of a registry with token authentication
 * (docker-registry's `auth.token`, the tests' token server, which gives
 * anonymous clients nothing under `private/`): readable only with the
 * client's bearer token, which reaches the registry and nothing else (not
 * the token realm); what only that token could read is never served to
 * another client.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { OciRelay } from '../../fakes/oci-relay.js';
import { pushSeedProvider, type PlatformZip } from '../../fakes/provider-mirror-registry.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';
import { get, initThrough, providerZips, startProviderUpstream, storedObjects, type ProviderUpstream } from './support.js';

const HOST = 'private/tf/registry.terraform.io';
const PRIVATE = `${HOST}/corp/secret`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let upstream: ProviderUpstream;
let relay: OciRelay;
let regcache: RegcacheProcess;
let clientToken: string;
let secretZips: PlatformZip[];

/** Relayed requests that carried the client's token. */
const withClientToken = (): string[] => relay.log.filter((r) => r.authorization === `Bearer ${clientToken}`).map((r) => r.path);

void describe('provider_mirror: a bearer-token registry', () => {
  before(async () => {
    upstream = await startProviderUpstream();
    relay = upstream.relay;
    secretZips = await providerZips('secret', '2.0.0');
    await pushSeedProvider(upstream.push, PRIVATE, '2.0.0', secretZips);
    clientToken = await upstream.readerToken(PRIVATE);
    regcache = await startRegcache({
      instances: [
        { name: 'tfoci', provider_mirror: { route: { path: '/oci-mirror' }, origin_url: relay.url, name_prefix: 'private/tf', proxy_packages: true } },
        { name: 'tfplain', provider_mirror: { route: { path: '/oci-plain' }, origin_url: relay.url, name_prefix: 'private/tf', proxy_packages: false } },
      ],
    });
  });

  after(async () => {
    await regcache?.stop();
    await upstream?.close();
  });

  void it('a private repository: 401 without credentials, installed with the client\'s token, which goes to the registry only', async () => {
    const anonymous = await get(regcache, '/oci-mirror/registry.terraform.io/corp/secret/index.json');
    assert.equal(anonymous.status, 401, anonymous.body.toString());

    const r = await initThrough(regcache, { 'corp/secret': '2.0.0' }, clientToken);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Installed corp\/secret v2\.0\.0/);
    const linux = secretZips.find((z) => z.os === 'linux')?.zip ?? Buffer.alloc(0);
    const sent = withClientToken();
    assert.ok(sent.some((p) => p.includes(`/v2/${PRIVATE}/blobs/sha256:${sha256(linux)}`)), 'the zip was downloaded with the client\'s token (proxy_packages)');
    assert.ok(sent.every((p) => p.startsWith(`/v2/${PRIVATE}/`)), 'only for that repository');
    const realm = relay.log.filter((q) => q.path === '/token');
    assert.ok(realm.length >= 1, 'regcache asked the realm (anonymously) first');
    assert.ok(realm.every((q) => q.authorization === undefined), 'the client\'s token never went to the token realm');
    assert.ok(!regcache.output().includes(clientToken), 'never logged');
    assert.equal((await storedObjects(regcache)).filter((f) => f.includes(sha256(linux))).length, 1, 'the zip is cached');
  });

  void it('what only the client\'s token could read is never served to another client', async () => {
    const base = '/oci-mirror/registry.terraform.io/corp/secret';
    const zipPath = `${base}/2.0.0/linux_amd64/terraform-provider-secret_2.0.0_linux_amd64.zip`;
    const otherToken = await upstream.readerToken(`${HOST}/corp/other`);
    for (const [path, headers] of [
      [`${base}/index.json`, {}],
      [`${base}/2.0.0.json`, {}],
      [zipPath, {}],
      [`${base}/index.json`, { authorization: 'Bearer not-a-token' }],
      [`${base}/2.0.0.json`, { authorization: `Bearer ${otherToken}` }],
    ] as const) {
      const r = await get(regcache, path, headers);
      assert.equal(r.status, 401, `${path} → ${r.status}`);
    }
    const allowed = await get(regcache, `${base}/2.0.0.json`, { authorization: `Bearer ${clientToken}` });
    assert.equal(allowed.status, 200, allowed.body.toString());
    const { archives } = JSON.parse(allowed.body.toString()) as { archives: Record<string, { url: string }> };
    const url = archives.linux_amd64?.url ?? '';
    assert.match(url, /\?exp=\d+&sig=[A-Za-z0-9_-]+&grant=/, 'signed URL with a sealed grant');
    assert.ok(!url.includes(clientToken), 'the token itself is not in the URL');
    const signed = await get(regcache, `${base}/${url}`);
    assert.equal(signed.status, 200);
    const other = await get(regcache, `${base}/2.0.0/darwin_arm64/terraform-provider-secret_2.0.0_darwin_arm64.zip?${url.split('?')[1] ?? ''}`);
    assert.equal(other.status, 401, 'a signature is bound to its path');
  });

  void it('proxy_packages: false never sends the client\'s token for a download', async () => {
    const base = '/oci-plain/registry.terraform.io/corp/secret';
    const r = await get(regcache, `${base}/2.0.0.json`, { authorization: `Bearer ${clientToken}` });
    assert.equal(r.status, 200, r.body.toString());
    const url = (JSON.parse(r.body.toString()) as { archives: Record<string, { url: string }> }).archives.darwin_arm64?.url ?? '';
    assert.doesNotMatch(url, /grant=/);
    const darwin = sha256(secretZips.find((z) => z.os === 'darwin')?.zip ?? Buffer.alloc(0));
    const zip = await get(regcache, `${base}/${url}`);
    assert.equal(zip.status, 401, 'the registry refuses regcache\'s own access');
    assert.ok(!withClientToken().some((p) => p.includes(darwin)), 'no download with the client\'s token');
  });
});
