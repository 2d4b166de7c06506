/**
 * A private repository of a registry with token authentication
 * (docker-registry's `auth.token`, the tests' token server, which gives
 * anonymous clients nothing under `private/`): readable only with the
 * client's bearer token, which reaches the registry and nothing else (not
 * the token realm); what only that token could read is never served to
 * another client. No answer carries the token in any form: zip URLs name
 * a stored download grant by an opaque id, and an id that is not one opens
 * nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { OciRelay } from '../../fakes/oci-relay.js';
import { pushSeedProvider, type PlatformZip } from '../../fakes/provider-mirror-registry.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';
import { encodingsOf, get, initThrough, providerZips, startProviderUpstream, storedObjects, type ProviderUpstream } from './support.js';

const HOST = 'private/tf/registry.terraform.io';
const PRIVATE = `${HOST}/corp/secret`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let upstream: ProviderUpstream;
let relay: OciRelay;
let regcache: RegcacheProcess;
let clientToken: string;
let secretZips: PlatformZip[];

/** The zip URLs of a `{version}.json` answer, checked to carry the client's token in no form. */
function zipUrls(body: Buffer): Record<string, string> {
  const text = body.toString();
  for (const form of encodingsOf(`Bearer ${clientToken}`)) assert.ok(!text.includes(form), `no ${form.slice(0, 12)}… in the answer`);
  const { archives } = JSON.parse(text) as { archives: Record<string, { url: string }> };
  return Object.fromEntries(Object.entries(archives).map(([p, a]) => [p, a.url]));
}

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
    const urls = zipUrls(allowed.body);
    const url = urls.linux_amd64 ?? '';
    assert.match(url, /\?exp=\d+&sig=[A-Za-z0-9_-]+&grant=[0-9a-f]{64}$/, 'signed URL naming a stored grant');
    assert.equal(Object.keys(urls).length, 2);
    const grantOf = (u: string): string | null => new URLSearchParams(u.split('?')[1] ?? '').get('grant');
    assert.equal(new Set(Object.values(urls).map(grantOf)).size, 1, 'one grant for the client and provider');
    const again = await get(regcache, `${base}/2.0.0.json`, { authorization: `Bearer ${clientToken}` });
    assert.equal(grantOf(zipUrls(again.body).darwin_arm64 ?? ''), grantOf(url), 'the same client re-uses its grant');
    assert.equal((await storedObjects(regcache)).filter((f) => f.startsWith('_grants/')).length, 1, 'stored once');
    const signed = await get(regcache, `${base}/${url}`);
    assert.equal(signed.status, 200);
    const other = await get(regcache, `${base}/2.0.0/darwin_arm64/terraform-provider-secret_2.0.0_darwin_arm64.zip?${url.split('?')[1] ?? ''}`);
    assert.equal(other.status, 401, 'a signature is bound to its path');
  });

  void it('proxy_packages: false never sends the client\'s token for a download', async () => {
    const base = '/oci-plain/registry.terraform.io/corp/secret';
    const r = await get(regcache, `${base}/2.0.0.json`, { authorization: `Bearer ${clientToken}` });
    assert.equal(r.status, 200, r.body.toString());
    const url = zipUrls(r.body).darwin_arm64 ?? '';
    assert.doesNotMatch(url, /grant=/);
    const darwin = sha256(secretZips.find((z) => z.os === 'darwin')?.zip ?? Buffer.alloc(0));
    const zip = await get(regcache, `${base}/${url}`);
    assert.equal(zip.status, 401, 'the registry refuses regcache\'s own access');
    assert.ok(!withClientToken().some((p) => p.includes(darwin)), 'no download with the client\'s token');
  });

  void it('an unknown or forged grant id downloads nothing with a credential; the genuine one does', async () => {
    const base = '/oci-mirror/registry.terraform.io/corp/secret';
    const r = await get(regcache, `${base}/2.0.0.json`, { authorization: `Bearer ${clientToken}` });
    assert.equal(r.status, 200, r.body.toString());
    const url = zipUrls(r.body).darwin_arm64 ?? '';
    const [path = '', query = ''] = url.split('?');
    const genuine = new URLSearchParams(query).get('grant') ?? '';
    const darwin = sha256(secretZips.find((z) => z.os === 'darwin')?.zip ?? Buffer.alloc(0));
    const flipped = `${genuine.slice(0, -1)}${genuine.endsWith('0') ? '1' : '0'}`;
    for (const forged of ['0'.repeat(64), flipped, 'not-an-id', '../../tags/2.0.0', '']) {
      const q = new URLSearchParams(query);
      q.set('grant', forged);
      const zip = await get(regcache, `${base}/${path}?${q.toString()}`);
      assert.ok(zip.status >= 400 && zip.status < 500, `grant ${JSON.stringify(forged)} → ${zip.status}`);
    }
    const noGrant = new URLSearchParams(query);
    noGrant.delete('grant');
    assert.equal((await get(regcache, `${base}/${path}?${noGrant.toString()}`)).status, 401);
    assert.ok(!withClientToken().some((p) => p.includes(darwin)), 'no download with the client\'s token');
    assert.ok(!(await storedObjects(regcache)).some((f) => f.includes(darwin)), 'nothing stored');

    const zip = await get(regcache, `${base}/${url}`);
    assert.equal(zip.status, 200, zip.body.toString());
    assert.equal(sha256(zip.body), darwin);
    assert.ok(withClientToken().some((p) => p.includes(darwin)), 'the genuine grant downloads with the client\'s token');
    assert.ok(!regcache.output().includes(clientToken), 'never logged');
  });
});
