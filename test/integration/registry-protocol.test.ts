/**
 * The provider registry protocol and private content at the HTTP level:
 * rewritten download answers, OpenTofu's `packages`, byte-identical
 * SHA256SUMS/.sig, unsigned providers (allow / refuse), discovery, and
 * signed URLs for private zips (missing, tampered, expired).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, jsonOf } from './http-client.js';
import { startHarness, waitFor, type Harness } from './harness.js';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];
const SIGNING_KEY = 'k'.repeat(40);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface DownloadAnswer {
  filename: string;
  shasum: string;
  download_url: string;
  shasums_url: string;
  shasums_signature_url: string;
  signing_keys: { gpg_public_keys: Array<{ ascii_armor: string }> };
  packages: Record<string, { hashes: string[]; package_size?: number }>;
}

let h: Harness;

void describe('registry protocol and private content', () => {
  before(async () => {
    h = await startHarness({
      providers: [
        { namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: PLATFORMS }] },
        { namespace: 'acme', type: 'nosig', versions: [{ version: '1.0.0', platforms: PLATFORMS }], signed: false },
        { namespace: 'acme', type: 'private', versions: [{ version: '2.0.0', platforms: PLATFORMS }], token: 'sekrit' },
      ],
      extraUpstreams: [{ host: 'unsigned-ok.example', unsigned: 'allow' }],
      server: { urlSigningKey: SIGNING_KEY },
    });
  });
  after(async () => {
    await h?.stop();
  });

  const base = '/v1/providers/registry.terraform.io';

  void it('rewrites download URLs to regcache, keeps shasum and signing keys, adds packages for every platform', async () => {
    const r = await h.get(`${base}/hashicorp/random/3.6.0/download/linux/amd64`);
    assert.equal(r.status, 200);
    const d = jsonOf<DownloadAnswer>(r);
    const zip = h.origin.zipBytes('hashicorp', 'random', '3.6.0', 'linux', 'amd64');
    assert.equal(d.shasum, sha(zip));
    assert.match(d.signing_keys.gpg_public_keys[0]?.ascii_armor ?? '', /BEGIN PGP PUBLIC KEY BLOCK/);
    for (const u of [d.download_url, d.shasums_url, d.shasums_signature_url]) assert.ok(u.startsWith(`${h.app.url}${base}/hashicorp/random/3.6.0/archives/`), u);
    assert.deepEqual(Object.keys(d.packages).sort(), ['darwin_arm64', 'linux_amd64']);
    assert.deepEqual(d.packages.darwin_arm64?.hashes, [`zh:${sha(h.origin.zipBytes('hashicorp', 'random', '3.6.0', 'darwin', 'arm64'))}`]);

    const z = await h.get(new URL(d.download_url).pathname);
    assert.ok(z.body.equals(zip), 'zip byte-identical');
    const sums = await h.get(new URL(d.shasums_url).pathname);
    const origSums = await fetchOrigin('/files/providers/hashicorp/random/3.6.0/terraform-provider-random_3.6.0_SHA256SUMS');
    assert.ok(sums.body.equals(origSums), 'SHA256SUMS byte-identical');
    const sig = await h.get(new URL(d.shasums_signature_url).pathname);
    assert.ok(sig.body.equals(await fetchOrigin('/files/providers/hashicorp/random/3.6.0/terraform-provider-random_3.6.0_SHA256SUMS.sig')), '.sig byte-identical');

    await waitFor(async () => {
      const again = jsonOf<DownloadAnswer>(await h.get(`${base}/hashicorp/random/3.6.0/download/linux/amd64`));
      return (again.packages.linux_amd64?.hashes.some((x) => x.startsWith('h1:')) ?? false) && again.packages.linux_amd64?.package_size === zip.length;
    }, 'h1 and package_size listed once the zip is cached');
  });

  void it('versions and discovery', async () => {
    const v = jsonOf<{ versions: Array<{ version: string }> }>(await h.get(`${base}/hashicorp/random/versions`));
    assert.deepEqual(v.versions.map((x) => x.version), ['3.6.0']);
    const doc = jsonOf<Record<string, string>>(await h.get('/.well-known/terraform.json'));
    assert.deepEqual(doc, { 'providers.v1': '/v1/providers/registry.terraform.io/', 'modules.v1': '/v1/modules/registry.terraform.io/' });
  });

  void it('refuses unsigned providers by default and passes them through unsigned when allowed', async () => {
    assertJsonError(await h.get(`${base}/acme/nosig/1.0.0/download/linux/amd64`), 502, 'ERR_SIGNATURE_INVALID');
    const ok = await h.get('/v1/providers/unsigned-ok.example/acme/nosig/1.0.0/download/linux/amd64');
    assert.equal(ok.status, 200, ok.body.toString());
    const d = jsonOf<DownloadAnswer>(ok);
    assert.deepEqual(d.signing_keys.gpg_public_keys, [], 'no signature claimed');
    const zip = await h.get(new URL(d.download_url).pathname);
    assert.ok(zip.body.equals(h.origin.zipBytes('acme', 'nosig', '1.0.0', 'linux', 'amd64')));
    assert.equal((await h.get(new URL(d.shasums_signature_url).pathname)).status, 404);
  });

  void it('private provider: credentials forwarded only to the registry origin; zips need a valid, unexpired signature', async () => {
    assertJsonError(await h.get(`${base}/acme/private/versions`), 401, 'ERR_UPSTREAM_UNAUTHORIZED', 'no credentials, cold');
    const auth = { authorization: 'Bearer sekrit' };
    const r = await h.get(`${base}/acme/private/2.0.0/download/linux/amd64`, { headers: auth });
    assert.equal(r.status, 200, r.body.toString());
    const d = jsonOf<DownloadAnswer>(r);
    const signed = new URL(d.download_url);
    assert.match(signed.search, /^\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    assert.equal((await h.get(signed.pathname + signed.search)).status, 200, 'signed URL works without credentials');

    assertJsonError(await h.get(signed.pathname), 401, 'ERR_UNAUTHORIZED', 'unsigned');
    const exp = signed.searchParams.get('exp') ?? '';
    const sig = signed.searchParams.get('sig') ?? '';
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    assertJsonError(await h.get(`${signed.pathname}?exp=${exp}&sig=${flipped}`), 401, 'ERR_UNAUTHORIZED', 'tampered');
    assertJsonError(await h.get(`${signed.pathname}?exp=${Number(exp) + 1}&sig=${sig}`), 401, 'ERR_UNAUTHORIZED', 'exp changed');
    const past = String(Math.floor(Date.now() / 1000) - 60);
    const pastSig = createHmac('sha256', SIGNING_KEY).update(`${signed.pathname}\n${past}`).digest('base64url');
    assertJsonError(await h.get(`${signed.pathname}?exp=${past}&sig=${pastSig}`), 401, 'ERR_UNAUTHORIZED', 'expired');

    assertJsonError(await h.get(`${base}/acme/private/versions`), 401, 'ERR_UNAUTHORIZED', 'cached, no credentials');
    assertJsonError(await h.get(`${base}/acme/private/versions`, { headers: { authorization: 'Bearer wrong' } }), 401, 'ERR_UNAUTHORIZED', 'wrong credentials');
    assertJsonError(await h.get(`/v1/mirror/registry.terraform.io/acme/private/2.0.0.json`), 401, 'ERR_UNAUTHORIZED', 'mirror, no credentials');
    const mirror = jsonOf<{ archives: Record<string, { url: string }> }>(await h.get(`/v1/mirror/registry.terraform.io/acme/private/2.0.0.json`, { headers: auth }));
    assert.match(mirror.archives.linux_amd64?.url ?? '', /\?exp=\d+&sig=/, 'mirror archive URLs are signed too');

    const seen = h.origin.requests.filter((x) => x.authorization !== undefined);
    assert.ok(seen.length > 0);
    // The registry's own origin serves the API and, here, the files: SHA256SUMS on that origin may get the
    // credential (private registries serve files behind it); any other listener never does.
    for (const x of seen) assert.ok(x.server === 'origin' && (x.path.startsWith('/v1/providers/') || x.path.startsWith('/files/')), `credential sent only to the registry origin, not ${x.server} ${x.path}`);
    assert.ok(!JSON.stringify(h.logs).includes('sekrit'), 'credential never logged');
  });

  void it('a private provider is refused without credentials also when upstream is down', async () => {
    await h.origin.down();
    try {
      assertJsonError(await h.get(`${base}/acme/private/versions`), 401, 'ERR_UNAUTHORIZED');
      assertJsonError(await h.get(`${base}/acme/private/versions`, { headers: { authorization: 'Bearer never-checked' } }), 401, 'ERR_UNAUTHORIZED');
    } finally {
      await h.origin.up();
    }
  });
});

async function fetchOrigin(path: string): Promise<Buffer> {
  const { httpsRequest } = await import('../fakes/https-request.js');
  const r = await httpsRequest(`${h.origin.url}${path}`, { ca: h.origin.caPem });
  assert.equal(r.status, 200, path);
  return r.body;
}

void describe('configured upstream token', () => {
  let t: Harness;
  before(async () => {
    t = await startHarness({
      providers: [{ namespace: 'acme', type: 'teamonly', versions: [{ version: '1.0.0', platforms: PLATFORMS }], token: 'operator-token' }],
      originOptions: { cdn: true },
      extraUpstreams: [{ host: 'team.example', token: 'operator-token' }, { host: 'other.example', token: 'other-token' }],
    });
  });
  after(async () => {
    await t?.stop();
  });

  void it('is regcache\'s own credential: sent to its host\'s registry API only, content served to every client', async () => {
    const d = await t.get('/v1/providers/team.example/acme/teamonly/1.0.0/download/linux/amd64');
    assert.equal(d.status, 200, d.body.toString());
    const zip = await t.get(new URL(jsonOf<DownloadAnswer>(d).download_url).pathname);
    assert.equal(zip.status, 200);
    for (const r of t.origin.requests) {
      if (r.authorization === undefined) continue;
      assert.equal(r.authorization, 'Bearer operator-token', `only team.example's token is ever sent (${r.path})`);
      assert.ok(r.path.startsWith('/v1/providers/'), `token only on the registry API, not ${r.path}`);
      assert.notEqual(r.server, 'cdn');
    }
    assert.ok(!JSON.stringify(t.logs).includes('operator-token'));
  });
});
