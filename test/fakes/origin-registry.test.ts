import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createMessage, readKey, readSignature, verify } from 'openpgp';
import { httpsRequest, type HttpsRequestOptions, type HttpsResponse } from './https-request.js';
import { startOriginRegistry, type OriginRegistry } from './origin-registry.js';

interface DownloadJson {
  protocols: string[];
  os: string;
  arch: string;
  filename: string;
  download_url: string;
  shasums_url: string;
  shasums_signature_url: string;
  shasum: string;
  signing_keys: { gpg_public_keys: Array<{ key_id: string; ascii_armor: string; source: string; source_url: null }> };
}

const linuxAmd64 = [{ os: 'linux', arch: 'amd64' }];
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function verifySignature(sums: Buffer, sig: Buffer, armoredKey: string): Promise<void> {
  const { signatures } = await verify({
    message: await createMessage({ binary: sums }),
    signature: await readSignature({ binarySignature: sig }),
    verificationKeys: await readKey({ armoredKey }),
  });
  const first = signatures[0];
  assert.ok(first !== undefined);
  await first.verified;
}

void describe('fake origin registry', () => {
  let origin: OriginRegistry;
  const get = (path: string, opts: HttpsRequestOptions = {}): Promise<HttpsResponse> =>
    httpsRequest(new URL(path, origin.url).toString(), { ca: origin.caPem, ...opts });
  const json = async <T>(path: string, opts: HttpsRequestOptions = {}): Promise<T> => {
    const res = await get(path, opts);
    assert.equal(res.status, 200, `${path}: ${res.body.toString()}`);
    assert.equal(res.headers['content-type'], 'application/json');
    return JSON.parse(res.body.toString()) as T;
  };
  const download = (version = '1.0.0', os = 'linux', arch = 'amd64'): Promise<DownloadJson> =>
    json<DownloadJson>(`/v1/providers/acme/widget/${version}/download/${os}/${arch}`);

  before(async () => {
    origin = await startOriginRegistry();
    await origin.addProvider({
      namespace: 'acme',
      type: 'widget',
      versions: [
        { version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }, { os: 'darwin', arch: 'arm64' }] },
        { version: '1.1.0', platforms: linuxAmd64, extraBytes: 20_000 },
      ],
    });
    const plainVersions = [{ version: '0.1.0', platforms: linuxAmd64 }];
    await origin.addProvider({ namespace: 'acme', type: 'plain', signed: false, versions: plainVersions });
    const secretVersions = [{ version: '2.0.0', platforms: linuxAmd64 }];
    await origin.addProvider({ namespace: 'corp', type: 'secret', token: 's3cret', versions: secretVersions });
    origin.addModule({ namespace: 'acme', name: 'net', system: 'aws', versions: ['1.0.0', '1.2.0'] });
    const location = (v: string): string => `git::https://example.com/net.git?ref=v${v}`;
    origin.addModule({ namespace: 'acme', name: 'git', system: 'aws', versions: ['3.0.0'], location });
  });

  after(async () => {
    await origin.stop();
  });

  void it('answers service discovery', async () => {
    assert.match(origin.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(origin.host, origin.url.slice('https://'.length));
    assert.equal(await readFile(origin.caFile, 'utf8'), origin.caPem);
    const discovery = await json('/.well-known/terraform.json');
    assert.deepEqual(discovery, { 'providers.v1': '/v1/providers/', 'modules.v1': '/v1/modules/' });
  });

  void it('is refused by a client that does not trust its CA', async () => {
    await assert.rejects(httpsRequest(`${origin.url}/.well-known/terraform.json`));
  });

  void it('lists versions and 404s unknown providers', async () => {
    assert.deepEqual(await json('/v1/providers/acme/widget/versions'), {
      versions: [
        { version: '1.0.0', protocols: ['5.0'], platforms: [...linuxAmd64, { os: 'darwin', arch: 'arm64' }] },
        { version: '1.1.0', protocols: ['5.0'], platforms: linuxAmd64 },
      ],
    });
    const missing = await get('/v1/providers/acme/nope/versions');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body.toString()), { errors: ['Not Found'] });
    assert.equal((await get('/v1/providers/acme/widget/9.9.9/download/linux/amd64')).status, 404);
    assert.equal((await get('/v1/providers/acme/widget/1.1.0/download/darwin/arm64')).status, 404);
  });

  void it('serves download metadata whose zip, SHA256SUMS and signature agree', async () => {
    const d = await download();
    const expected = [['5.0'], 'linux', 'amd64', 'terraform-provider-widget_1.0.0_linux_amd64.zip'];
    assert.deepEqual([d.protocols, d.os, d.arch, d.filename], expected);
    assert.ok(d.download_url.startsWith('/files/'));
    const zip = await get(d.download_url);
    assert.equal(zip.headers['content-type'], 'application/zip');
    assert.deepEqual(zip.body, origin.zipBytes('acme', 'widget', '1.0.0', 'linux', 'amd64'));
    assert.equal(sha256(zip.body), d.shasum);
    const sums = (await get(d.shasums_url)).body;
    assert.ok(d.shasums_url.endsWith('terraform-provider-widget_1.0.0_SHA256SUMS'));
    assert.match(sums.toString(), new RegExp(`^${d.shasum}  ${d.filename}$`, 'm'));
    assert.equal(sums.toString().trim().split('\n').length, 2);
    const sig = await get(d.shasums_signature_url);
    assert.equal(sig.headers['content-type'], 'application/octet-stream');
    const key = d.signing_keys.gpg_public_keys[0];
    assert.ok(key !== undefined);
    assert.equal(key.key_id, origin.signingKey.keyId);
    assert.equal(key.source, 'regcache-test');
    await verifySignature(sums, sig.body, key.ascii_armor);
  });

  void it('answers HEAD with the length and no body', async () => {
    const d = await download('1.1.0');
    const head = await get(d.download_url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), origin.zipBytes('acme', 'widget', '1.1.0', 'linux', 'amd64').length);
    assert.ok(Number(head.headers['content-length']) > 20_000);
    assert.equal(head.body.length, 0);
  });

  void it('publishes no keys for unsigned providers', async () => {
    const d = await json<DownloadJson>('/v1/providers/acme/plain/0.1.0/download/linux/amd64');
    assert.deepEqual(d.signing_keys, { gpg_public_keys: [] });
  });

  void it('requires the bearer token for private metadata but not for files', async () => {
    assert.equal((await get('/v1/providers/corp/secret/versions')).status, 401);
    assert.equal((await get('/v1/providers/corp/secret/versions', { headers: { authorization: 'Bearer nope' } })).status, 401);
    const auth = { headers: { authorization: 'Bearer s3cret' } };
    await json('/v1/providers/corp/secret/versions', auth);
    const d = await json<DownloadJson>('/v1/providers/corp/secret/2.0.0/download/linux/amd64', auth);
    assert.equal((await get(d.download_url)).status, 200);
    const logged = origin.requests.filter((r) => r.path === '/v1/providers/corp/secret/versions');
    assert.deepEqual(logged.map((r) => r.authorization), [undefined, 'Bearer nope', 'Bearer s3cret']);
  });

  void it('serves modules with X-Terraform-Get and a generated archive', async () => {
    const versions = await json('/v1/modules/acme/net/aws/versions');
    assert.deepEqual(versions, { modules: [{ versions: [{ version: '1.0.0' }, { version: '1.2.0' }] }] });
    const res = await get('/v1/modules/acme/net/aws/1.2.0/download');
    assert.equal(res.status, 204);
    const location = res.headers['x-terraform-get'];
    assert.ok(typeof location === 'string' && location.startsWith('/') && location.endsWith('.tar.gz'));
    const tar = gunzipSync((await get(location)).body);
    assert.equal(tar.subarray(0, 7).toString(), 'main.tf');
    const size = Number.parseInt(tar.subarray(124, 135).toString(), 8);
    assert.equal(tar.subarray(512, 512 + size).toString(), 'output "version" { value = "1.2.0" }\n');
    const git = await get('/v1/modules/acme/git/aws/3.0.0/download');
    assert.equal(git.headers['x-terraform-get'], 'git::https://example.com/net.git?ref=v3.0.0');
    assert.equal((await get('/v1/modules/acme/net/aws/9.0.0/download')).status, 404);
  });

  void it('counts and resets requests', async () => {
    origin.reset();
    await get('/v1/providers/acme/widget/versions');
    await get('/v1/providers/acme/widget/versions', { method: 'HEAD' });
    await download();
    assert.equal(origin.requests.length, 3);
    assert.equal(origin.count('/v1/providers/acme/widget/versions'), 2);
    assert.equal(origin.count('/v1/providers/acme/widget/versions', 'HEAD'), 1);
    assert.equal(origin.count(/\/download\//), 1);
    assert.equal(origin.count((p) => p.startsWith('/v1/')), 3);
    origin.reset();
    assert.equal(origin.requests.length, 0);
  });
});

void describe('fake origin faults', () => {
  let origin: OriginRegistry;
  let d: DownloadJson;
  const get = (path: string, opts: HttpsRequestOptions = {}): Promise<HttpsResponse> =>
    httpsRequest(new URL(path, origin.url).toString(), { ca: origin.caPem, ...opts });

  before(async () => {
    origin = await startOriginRegistry();
    const versions = [{ version: '1.0.0', platforms: linuxAmd64, extraBytes: 50_000 }];
    await origin.addProvider({ namespace: 'acme', type: 'widget', versions });
    d = JSON.parse((await get('/v1/providers/acme/widget/1.0.0/download/linux/amd64')).body.toString()) as DownloadJson;
  });

  after(async () => {
    await origin.stop();
  });

  void it('injects statuses with Retry-After, then clears them', async () => {
    origin.setFault('/versions', { kind: 'status', status: 503, retryAfter: 7 });
    const res = await get('/v1/providers/acme/widget/versions');
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    origin.setFault('/versions', undefined);
    assert.equal((await get('/v1/providers/acme/widget/versions')).status, 200);
  });

  void it('truncates bodies after announcing the full length', async () => {
    origin.setFault(/\.zip$/, { kind: 'truncate', afterBytes: 1000 });
    await assert.rejects(get(d.download_url));
    origin.clearFaults();
    assert.equal(sha256((await get(d.download_url)).body), d.shasum);
  });

  void it('serves wrong zip bytes and rogue signatures', async () => {
    origin.setFault('.zip', { kind: 'wrongShasum' });
    origin.setFault('.sig', { kind: 'badSignature' });
    assert.notEqual(sha256((await get(d.download_url)).body), d.shasum);
    const sums = (await get(d.shasums_url)).body;
    const sig = (await get(d.shasums_signature_url)).body;
    await assert.rejects(verifySignature(sums, sig, origin.signingKey.armoredPublicKey));
    origin.clearFaults();
    await verifySignature(sums, (await get(d.shasums_signature_url)).body, origin.signingKey.armoredPublicKey);
  });

  void it('serves malformed JSON, redirects and delays', async () => {
    origin.setFault('/versions', { kind: 'malformedJson' });
    const bad = await get('/v1/providers/acme/widget/versions');
    assert.equal(bad.headers['content-type'], 'application/json');
    assert.throws(() => JSON.parse(bad.body.toString()) as unknown);
    origin.setFault('/versions', { kind: 'redirect', location: '/elsewhere' });
    const moved = await get('/v1/providers/acme/widget/versions');
    assert.deepEqual([moved.status, moved.headers.location], [302, '/elsewhere']);
    origin.setFault('/versions', { kind: 'delay', ms: 150 });
    const start = Date.now();
    assert.equal((await get('/v1/providers/acme/widget/versions')).status, 200);
    assert.ok(Date.now() - start >= 140);
    origin.clearFaults();
  });

  void it('hangs requests until the fault is cleared', async () => {
    origin.setFault('/versions', { kind: 'hang' });
    await assert.rejects(get('/v1/providers/acme/widget/versions', { timeoutMs: 150 }), /timed out/);
    const pending = get('/v1/providers/acme/widget/versions');
    await new Promise((r) => setTimeout(r, 50));
    origin.setFault('/versions', undefined);
    assert.equal((await pending).status, 200);
  });

  void it('stalls bodies mid-way until the fault is cleared', async () => {
    origin.setFault('.zip', { kind: 'hangBody', afterBytes: 100 });
    await assert.rejects(get(d.download_url, { timeoutMs: 150 }), /timed out/);
    const pending = get(d.download_url);
    await new Promise((r) => setTimeout(r, 50));
    origin.clearFaults();
    assert.equal(sha256((await pending).body), d.shasum);
  });

  void it('goes down and comes back on the same port', async () => {
    const url = origin.url;
    await origin.down();
    await assert.rejects(get('/.well-known/terraform.json'), /ECONNREFUSED/);
    await origin.up();
    assert.equal(origin.url, url);
    assert.equal((await get('/.well-known/terraform.json')).status, 200);
  });

  void it('drops hung connections on stop', async () => {
    const other = await startOriginRegistry();
    other.setFault('/', { kind: 'hang' });
    const rejected = assert.rejects(httpsRequest(`${other.url}/.well-known/terraform.json`, { ca: other.caPem }));
    await new Promise((r) => setTimeout(r, 50));
    await other.stop();
    await rejected;
    assert.equal(other.count('/.well-known/terraform.json'), 1);
  });
});

void describe('fake origin with a CDN and throttling', () => {
  let origin: OriginRegistry;

  before(async () => {
    origin = await startOriginRegistry({ cdn: true, bytesPerSecond: 100_000, latencyMs: 20 });
    const versions = [{ version: '1.0.0', platforms: linuxAmd64, extraBytes: 30_000 }];
    await origin.addProvider({ namespace: 'acme', type: 'widget', versions });
  });

  after(async () => {
    await origin.stop();
  });

  void it('hands out absolute CDN URLs and serves files there, slowly', async () => {
    const res = await httpsRequest(`${origin.url}/v1/providers/acme/widget/1.0.0/download/linux/amd64`, { ca: origin.caPem });
    const d = JSON.parse(res.body.toString()) as DownloadJson;
    assert.ok(origin.cdnUrl !== undefined && origin.cdnUrl !== origin.url);
    assert.ok(d.download_url.startsWith(`${origin.cdnUrl}/files/`));
    const start = Date.now();
    const zip = await httpsRequest(d.download_url, { ca: origin.caPem });
    assert.ok(Date.now() - start >= 250, 'about 30 kB at 100 kB/s');
    assert.equal(sha256(zip.body), d.shasum);
    assert.equal(origin.requests.at(-1)?.server, 'cdn');
    assert.equal((await httpsRequest(`${origin.cdnUrl}/v1/providers/acme/widget/versions`, { ca: origin.caPem })).status, 404);
    await origin.down('cdn');
    await assert.rejects(httpsRequest(d.download_url, { ca: origin.caPem }), /ECONNREFUSED/);
    await origin.up('cdn');
  });
});
