/**
 * Issue 17, point 5, against a real regcache process: what anyone can read
 * without a token names nothing private and grows with nothing an upstream
 * chooses.
 * - The status page (GET /) lists cached public providers and modules, and
 *   none of the cached private ones.
 * - /metrics labels upstream hosts it was not configured with as "other":
 *   an upstream redirecting to 30 different hosts adds no series per host.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { rawRequest, type RawResponse } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { report, stopAndClean } from './support.js';

const TOKEN = 'views-client-token-44a1';
const HOST = 'registry.terraform.io';
const LINUX = [{ os: 'linux', arch: 'amd64' }];
const REDIRECTED = 30;

void describe('reliability: views without a token', () => {
  let origin: OriginRegistry;
  let rc: RegcacheProcess;
  const get = (path: string, token?: string): Promise<RawResponse> => rawRequest(rc.url, path, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const ok = async (path: string, token?: string): Promise<RawResponse> => {
    const r = await get(path, token);
    assert.equal(r.status, 200, `${path}: ${r.body.toString('utf8').slice(0, 300)}`);
    return r;
  };
  const local = (url: string): string => new URL(url, rc.url).pathname + new URL(url, rc.url).search;

  before(async () => {
    origin = await startOriginRegistry();
    await origin.addProvider({ namespace: 'acme', type: 'openprov', versions: [{ version: '1.0.0', platforms: LINUX }] });
    await origin.addProvider({ namespace: 'acme', type: 'hiddenprov', versions: [{ version: '1.0.0', platforms: LINUX }], token: TOKEN });
    origin.addModule({ namespace: 'acme', name: 'openmod', system: 'aws', versions: ['1.0.0'] });
    origin.addModule({ namespace: 'acme', name: 'hiddenmod', system: 'aws', versions: ['1.0.0'], token: TOKEN });
    // Loopback aliases stand for the hosts an upstream redirects to: the outbound policy must let them be tried.
    rc = await startRegcache({ server: { tls: false }, upstream: { allowAddresses: ['127.0.0.0/8'] }, terraform: { upstreams: [{ host: HOST, url: origin.url }] } }, { NODE_EXTRA_CA_CERTS: origin.caFile });
  });
  after(async () => {
    await stopAndClean(rc);
    await origin?.stop();
  });

  void it('the status page lists cached public providers and modules and no private one', async () => {
    await ok(`/v1/mirror/${HOST}/acme/openprov/1.0.0/linux_amd64/terraform-provider-openprov_1.0.0_linux_amd64.zip`);
    const d = JSON.parse((await ok(`/v1/providers/${HOST}/acme/hiddenprov/1.0.0/download/linux/amd64`, TOKEN)).body.toString('utf8')) as { download_url: string };
    await ok(local(d.download_url));
    for (const [name, token] of [['openmod', undefined], ['hiddenmod', TOKEN]] as const) {
      const loc = (JSON.parse((await ok(`/v1/modules/${HOST}/acme/${name}/aws/1.0.0/download`, token)).body.toString('utf8')) as { location: string }).location;
      await ok(local(loc));
    }
    const page = (await ok('/')).body.toString('utf8');
    assert.match(page, /acme\/openprov/, 'the public provider is listed (the page did list the cache)');
    assert.match(page, /acme\/openmod/, 'the public module is listed');
    assert.doesNotMatch(page, /hiddenprov/, 'the private provider is not named');
    assert.doesNotMatch(page, /hiddenmod/, 'the private module is not named');
  });

  void it(`/metrics keeps one "other" host label for ${REDIRECTED} hosts an upstream redirected to`, async () => {
    for (let i = 0; i < REDIRECTED; i++) {
      // Loopback aliases on a port nothing listens on: each connection is refused at once, none leaves the machine.
      origin.setFault(`/v1/providers/acme/moved${i}/versions`, { kind: 'redirect', location: `https://127.0.0.${i + 2}:9/v1/providers/acme/moved${i}/versions` });
      assert.ok((await get(`/v1/mirror/${HOST}/acme/moved${i}/index.json`)).status >= 400);
    }
    origin.clearFaults();
    const metrics = (await ok('/metrics')).body.toString('utf8');
    const hosts = new Set([...metrics.matchAll(/^regcache_upstream_requests_total\{[^}]*host="([^"]*)"/gm)].map((m) => m[1] ?? ''));
    report('metrics-host-labels', { redirectedHosts: REDIRECTED, hostLabels: hosts.size, labels: [...hosts] });
    assert.ok(hosts.has(new URL(origin.url).host), 'the configured origin has its own label');
    assert.ok(hosts.has('other'), 'the redirect targets were counted');
    for (const h of hosts) assert.ok(h === 'other' || h === new URL(origin.url).host, `unexpected host label ${h}`);
  });
});
