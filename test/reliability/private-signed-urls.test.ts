/**
 * Private artifacts are never served without authorization, including
 * across a restart: module archive URLs (test/e2e/modules.test.ts covers
 * unsigned and a flipped signature) are tried expired, with a moved expiry,
 * with another version's or another format's signature and with the token
 * as a header instead of a signature; provider zips and SHA256SUMS with a
 * signature borrowed from a sibling path.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, jsonOf, type RawResponse } from '../integration/http-client.js';
import { startHarness, type Harness } from '../integration/harness.js';
import { report } from './support.js';

const KEY = 'reliability-signing-key-0123456789abcdef';
const MOD_TOKEN = 'mod-secret-token';
const PROV_TOKEN = 'prov-secret-token';
const M = '/v1/modules/registry.terraform.io/acme/privmod/aws';
const P = '/v1/providers/registry.terraform.io/acme/private';

void describe('reliability: signed URLs for private artifacts', () => {
  let h: Harness;
  let refusals = 0;
  const loc: Record<string, URL> = {};

  const sign = (path: string, exp: number): string => createHmac('sha256', KEY).update(`${path}\n${exp}`).digest('base64url');
  const denied = async (target: string, what: string, headers: Record<string, string> = {}): Promise<void> => {
    const before = h.origin.count((p) => p.startsWith('/files/'));
    assertJsonError(await h.get(target, { headers }), 401, 'ERR_UNAUTHORIZED', what);
    assert.equal(h.origin.count((p) => p.startsWith('/files/')), before, `${what}: no file fetched upstream for it`);
    refusals++;
  };
  const served = async (target: string): Promise<RawResponse> => {
    const r = await h.get(target);
    assert.equal(r.status, 200, `${target}: ${r.body.toString('utf8').slice(0, 200)}`);
    assert.ok(r.complete);
    return r;
  };

  before(async () => {
    h = await startHarness({
      server: { urlSigningKey: KEY },
      providers: [{ namespace: 'acme', type: 'private', versions: [{ version: '2.0.0', platforms: [{ os: 'linux', arch: 'amd64' }, { os: 'darwin', arch: 'arm64' }] }], token: PROV_TOKEN }],
    });
    h.origin.addModule({ namespace: 'acme', name: 'privmod', system: 'aws', versions: ['1.0.0', '1.1.0'], token: MOD_TOKEN });
    assert.equal((await h.get(`${M}/versions`, { headers: { authorization: `Bearer ${MOD_TOKEN}` } })).status, 200, 'module versions cached');
    assert.equal((await h.get(`${P}/versions`, { headers: { authorization: `Bearer ${PROV_TOKEN}` } })).status, 200, 'provider versions cached');
    for (const v of ['1.0.0', '1.1.0']) {
      const r = await h.get(`${M}/${v}/download`, { headers: { authorization: `Bearer ${MOD_TOKEN}` } });
      assert.equal(r.status, 200, r.body.toString('utf8'));
      loc[v] = new URL(jsonOf<{ location: string }>(r).location);
    }
    const d = jsonOf<Record<string, string>>(await h.get(`${P}/2.0.0/download/linux/amd64`, { headers: { authorization: `Bearer ${PROV_TOKEN}` } }));
    for (const k of ['download_url', 'shasums_url', 'shasums_signature_url']) loc[k] = new URL(d[k] ?? '');
  });

  after(async () => {
    await h?.stop();
    report('private-signed-urls', { refusals });
  });

  const parts = (v: string): { path: string; exp: number; sig: string } => {
    const u = loc[v];
    assert.ok(u, v);
    return { path: u.pathname, exp: Number(u.searchParams.get('exp')), sig: u.searchParams.get('sig') ?? '' };
  };

  void it('module archive: the signed URL works; expired, moved-expiry, forged, borrowed and header-only variants get 401', async () => {
    const a = parts('1.0.0');
    const b = parts('1.1.0');
    assert.match(a.path, /\/1\.0\.0\/archive\.tar\.gz$/);
    await served(`${a.path}?exp=${a.exp}&sig=${a.sig}`);
    const past = Math.floor(Date.now() / 1000) - 5;
    await denied(`${a.path}?exp=${past}&sig=${sign(a.path, past)}`, 'correctly signed but expired');
    await denied(`${a.path}?exp=${a.exp + 3600}&sig=${a.sig}`, 'expiry moved, signature kept');
    await denied(`${a.path}?exp=${a.exp}&sig=${sign(a.path, a.exp).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`, 'signature with one character changed');
    await denied(`${a.path}?exp=9999999999&sig=${'A'.repeat(43)}`, 'forged signature, far-future expiry');
    await denied(`${b.path}?exp=${a.exp}&sig=${a.sig}`, "1.0.0's signature on 1.1.0's archive");
    await denied(`${a.path.replace('archive.tar.gz', 'archive.zip')}?exp=${a.exp}&sig=${a.sig}`, "tar.gz signature on the zip format");
    await denied(a.path, 'module token as a header instead of a signature', { authorization: `Bearer ${MOD_TOKEN}` });
    await denied(`${a.path}?sig=${a.sig}`, 'signature without expiry');
    await denied(`${a.path}?exp=${a.exp}&sig=${a.sig.slice(0, 42)}`, 'truncated signature');
  });

  void it('provider zip and checksums: a signature is bound to its exact path', async () => {
    const zip = parts('download_url');
    const sums = parts('shasums_url');
    await served(`${zip.path}?exp=${zip.exp}&sig=${zip.sig}`);
    await denied(`${zip.path.replace(/linux_amd64/g, 'darwin_arm64')}?exp=${zip.exp}&sig=${zip.sig}`, "linux zip's signature on the darwin zip");
    await denied(`${sums.path}.sig?exp=${sums.exp}&sig=${sums.sig}`, "SHA256SUMS's signature on SHA256SUMS.sig");
    await denied(`/v1/mirror/registry.terraform.io/acme/private/2.0.0/linux_amd64/terraform-provider-private_2.0.0_linux_amd64.zip?exp=${zip.exp}&sig=${zip.sig}`, "registry-protocol signature on the mirror path");
  });

  void it('after a restart the private marks hold: nothing private without a signature or credentials, signed URLs still work', async () => {
    await h.restart();
    const a = parts('1.0.0');
    const zip = parts('download_url');
    await denied(a.path, 'cached module archive, unsigned, after restart');
    await denied(zip.path, 'cached zip, unsigned, after restart');
    // Cached and private (ERR_UNAUTHORIZED) or asked upstream and refused there (ERR_UPSTREAM_UNAUTHORIZED): never served.
    assertJsonError(await h.get(`${M}/versions`), 401, /^ERR_(UPSTREAM_)?UNAUTHORIZED$/, 'module versions without token after restart');
    assertJsonError(await h.get(`${P}/versions`), 401, /^ERR_(UPSTREAM_)?UNAUTHORIZED$/, 'provider versions without token after restart');
    refusals += 2;
    await served(`${a.path}?exp=${a.exp}&sig=${a.sig}`);
    await served(`${zip.path}?exp=${zip.exp}&sig=${zip.sig}`);
  });
});
