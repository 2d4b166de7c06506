/**
 * Credentials never leak. Two registries, each behind a fake origin with a
 * separate CDN host for its files: registry.terraform.io with regcache's own
 * token A, second.example with token B, plus client-supplied tokens for
 * private providers and modules. Mixed traffic (public, operator-private,
 * client-private, wrong tokens, redirects to the CDN and to the other
 * registry) must leave every token only on the registry API of its own
 * host, never on a CDN, never on the other registry, and never in logs,
 * metrics, admin answers or files on disk.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry, type OriginRequest } from '../fakes/origin-registry.js';
import { rawRequest, type RawResponse } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { listTree, report, stopAndClean } from './support.js';
import { writeCaBundle } from './tls-servers.js';

const TOKEN_A = 'upstream-token-AAAA-1f3c9e';
const TOKEN_B = 'upstream-token-BBBB-7a2d41';
const CLIENT = 'client-token-CCCC-5b8e02';
const CLIENT_MOD = 'client-modtoken-DDDD-99c1';
const WRONG = 'wrong-token-EEEE-0000';
const ADMIN = 'admin-token-FFFF-123456789';
const SECRETS = [TOKEN_A, TOKEN_B, CLIENT, CLIENT_MOD, WRONG, ADMIN];
const R1 = 'registry.terraform.io';
const R2 = 'second.example';
const LINUX = [{ os: 'linux', arch: 'amd64' }];

void describe('reliability: credentials stay with their host', () => {
  let o1: OriginRegistry;
  let o2: OriginRegistry;
  let bundle: Awaited<ReturnType<typeof writeCaBundle>>;
  let p: RegcacheProcess;
  let sent = 0;

  const get = async (path: string, token?: string): Promise<RawResponse> => {
    sent++;
    return rawRequest(p.url, path, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  };
  const ok = async (path: string, token?: string): Promise<RawResponse> => {
    const r = await get(path, token);
    assert.equal(r.status, 200, `${path}: ${r.body.toString('utf8').slice(0, 300)}`);
    assert.ok(r.complete);
    return r;
  };
  const refused = async (path: string, token?: string): Promise<void> => {
    const r = await get(path, token);
    assert.ok(r.status === 401 || r.status === 403 || r.status === 404, `${path} without valid credentials → ${r.status}`);
  };
  const localPath = (url: string): string => {
    const u = new URL(url, p.url);
    return u.pathname + u.search;
  };

  before(async () => {
    o1 = await startOriginRegistry({ cdn: true });
    o2 = await startOriginRegistry({ cdn: true });
    await o1.addProvider({ namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: LINUX }] });
    await o1.addProvider({ namespace: 'acme', type: 'opsecret', versions: [{ version: '1.0.0', platforms: LINUX }], token: TOKEN_A });
    await o1.addProvider({ namespace: 'acme', type: 'clientsecret', versions: [{ version: '2.0.0', platforms: LINUX }], token: CLIENT });
    o1.addModule({ namespace: 'acme', name: 'privmod', system: 'aws', versions: ['1.0.0'], token: CLIENT_MOD });
    await o2.addProvider({ namespace: 'acme', type: 'other', versions: [{ version: '1.0.0', platforms: LINUX }], token: TOKEN_B });
    bundle = await writeCaBundle([o1.caPem, o2.caPem]);
    p = await startRegcache(
      {
        server: { tls: false },
        admin: { token: ADMIN },
        log: { level: 'trace' },
        terraform: { upstreams: [{ host: R1, url: o1.url, token: TOKEN_A }, { host: R2, url: o2.url, token: TOKEN_B }] },
      },
      { NODE_EXTRA_CA_CERTS: bundle.file },
    );
  });

  after(async () => {
    await stopAndClean(p);
    await o1?.stop();
    await o2?.stop();
    await bundle?.remove();
    report('credentials', { requests: sent, originRequests: (o1?.requests.length ?? 0) + (o2?.requests.length ?? 0) });
  });

  void it('drives public, operator-private, client-private and wrong-token traffic through both registries', async () => {
    const zipOf = (host: string, ns: string, type: string, v: string): string => `/v1/mirror/${host}/${ns}/${type}/${v}/linux_amd64/terraform-provider-${type}_${v}_linux_amd64.zip`;
    // Public, and private to regcache's own token: served to anyone, zips from the CDN.
    for (const [host, ns, type, v] of [[R1, 'hashicorp', 'random', '3.6.0'], [R1, 'acme', 'opsecret', '1.0.0'], [R2, 'acme', 'other', '1.0.0']] as const) {
      await ok(`/v1/mirror/${host}/${ns}/${type}/index.json`);
      await ok(`/v1/mirror/${host}/${ns}/${type}/${v}.json`);
      await ok(zipOf(host, ns, type, v));
      const d = JSON.parse((await ok(`/v1/providers/${host}/${ns}/${type}/${v}/download/linux/amd64`)).body.toString('utf8')) as Record<string, string>;
      for (const k of ['download_url', 'shasums_url', 'shasums_signature_url']) await ok(localPath(d[k] ?? ''));
    }
    // Private to a client token: refused without or with a wrong token, served with the right one.
    const cs = `/v1/providers/${R1}/acme/clientsecret`;
    await refused(`${cs}/versions`);
    const d = JSON.parse((await ok(`${cs}/2.0.0/download/linux/amd64`, CLIENT)).body.toString('utf8')) as Record<string, string>;
    for (const k of ['download_url', 'shasums_url', 'shasums_signature_url']) await ok(localPath(d[k] ?? ''));
    await refused(`${cs}/versions`, WRONG);
    await refused(`/v1/mirror/${R1}/acme/clientsecret/2.0.0.json`);
    const doc = JSON.parse((await ok(`/v1/mirror/${R1}/acme/clientsecret/2.0.0.json`, CLIENT)).body.toString('utf8')) as { archives: Record<string, { url: string }> };
    await ok(`/v1/mirror/${R1}/acme/clientsecret/${doc.archives.linux_amd64?.url ?? ''}`);
    await refused(zipOf(R1, 'acme', 'clientsecret', '2.0.0'));
    // Private module: download answer and archive with the signed URL.
    const m = `/v1/modules/${R1}/acme/privmod/aws`;
    await refused(`${m}/versions`);
    await ok(`${m}/versions`, CLIENT_MOD);
    const loc = (JSON.parse((await ok(`${m}/1.0.0/download`, CLIENT_MOD)).body.toString('utf8')) as { location: string }).location;
    await ok(localPath(loc));
    await refused(localPath(loc).split('?')[0] ?? '');
  });

  void it('redirects to the CDN host or to the other registry carry no credential', async () => {
    // The fault table is shared by both listeners, so the CDN path must differ from the faulted one.
    o1.setFault('/v1/providers/acme/tocdn/versions', { kind: 'redirect', location: `${o1.cdnUrl ?? ''}/moved/acme/tocdn/versions` });
    o1.setFault('/v1/providers/acme/tosecond/versions', { kind: 'redirect', location: `${o2.url}/v1/providers/acme/other/versions` });
    try {
      await refused(`/v1/mirror/${R1}/acme/tocdn/index.json`, CLIENT);
      await refused(`/v1/mirror/${R1}/acme/tosecond/index.json`, CLIENT);
    } finally {
      o1.clearFaults();
    }
    assert.ok(o1.requests.some((r) => r.server === 'cdn' && r.path === '/moved/acme/tocdn/versions'), 'the redirect to the CDN was followed');
    assert.ok(o2.requests.some((r) => r.path === '/v1/providers/acme/other/versions' && r.authorization === undefined), 'the cross-registry redirect was followed without a credential');
  });

  void it('every Authorization header any fake saw went to the registry API of the host it belongs to', () => {
    const withAuth = (o: OriginRegistry, server: OriginRequest['server']): OriginRequest[] => o.requests.filter((r) => r.server === server && r.authorization !== undefined);
    const values = (rs: OriginRequest[]): string[] => [...new Set(rs.map((r) => r.authorization ?? ''))].sort();
    const api1 = withAuth(o1, 'origin');
    const api2 = withAuth(o2, 'origin');
    assert.deepEqual(values(api1), [`Bearer ${CLIENT}`, `Bearer ${CLIENT_MOD}`, `Bearer ${TOKEN_A}`, `Bearer ${WRONG}`].sort(), 'registry.terraform.io saw its own token and the tokens clients sent it, nothing else');
    assert.deepEqual(values(api2), [`Bearer ${TOKEN_B}`], 'second.example saw only its own token (not A, not a client token sent to another host)');
    for (const r of [...api1, ...api2]) assert.match(r.path, /^\/v1\/(providers|modules)\//, `a credential reached ${r.path}`);
    assert.deepEqual(withAuth(o1, 'cdn'), [], 'no credential on registry.terraform.io\'s CDN');
    assert.deepEqual(withAuth(o2, 'cdn'), [], 'no credential on second.example\'s CDN');
    assert.ok(o1.requests.some((r) => r.server === 'cdn' && r.path.endsWith('.zip')) && o2.requests.some((r) => r.server === 'cdn' && r.path.endsWith('.zip')), 'zips really came from the CDN hosts');
  });

  void it('no token, signing secret or URL signature appears in logs, metrics, admin answers or stored files', async () => {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const surfaces: Array<[string, string]> = [
      ['log output', p.output()],
      ['/metrics', (await get('/metrics')).body.toString('utf8')],
      ['/admin/cache', (await rawRequest(p.url, '/admin/cache', { headers: admin })).body.toString('utf8')],
      ['/admin/stats', (await rawRequest(p.url, '/admin/stats', { headers: admin })).body.toString('utf8')],
      ['status page', (await get('/')).body.toString('utf8')],
    ];
    for (const rel of await listTree(p.dataDir)) {
      if (rel === 'url-signing.key') continue;
      surfaces.push([`file ${rel}`, (await readFile(join(p.dataDir, rel))).toString('latin1')]);
    }
    assert.ok(p.logs.filter((l) => l.msg === 'request').length >= sent, 'a request line was captured for every request');
    assert.ok(p.logs.some((l) => l.level === 20), 'debug lines (with upstream error messages) were captured too');
    for (const [where, text] of surfaces) {
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} found in ${where}`);
      assert.ok(!/[?&]sig=[A-Za-z0-9_-]{43}/.test(text) || where.startsWith('file '), `a URL signature found in ${where}`);
    }
    report('credentials-scan', { surfaces: surfaces.length, logLines: p.logs.length, secrets: SECRETS.length });
  });
});
