/**
 * Issue 17, points 6, 7 and 10 against a real regcache process:
 * - a request with a token that joins a tokenless load of the same key is
 *   answered with its own credential, not with the tokenless 401;
 * - 50 identical requests for a provider that does not exist cost upstream
 *   one call (remembered refusals), and 30 distinct wrong tokens cost at
 *   most the scope's credential-check budget;
 * - a refusal reads the same (status and body) whether or not the private
 *   scope is cached here: without a token, with a wrong token, or asking
 *   for an artifact without a signature.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { rawRequest, type RawResponse } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { report, stopAndClean, until } from './support.js';

const TOKEN = 'private-access-token-7d3e';
const HOST = 'registry.terraform.io';
const LINUX = [{ os: 'linux', arch: 'amd64' }];
const CHECKS_PER_MINUTE = 3;
const P = (type: string): string => `/v1/providers/${HOST}/acme/${type}`;
const M = (name: string): string => `/v1/modules/${HOST}/acme/${name}/aws`;
const zipOf = (type: string): string => `/v1/mirror/${HOST}/acme/${type}/1.0.0/linux_amd64/terraform-provider-${type}_1.0.0_linux_amd64.zip`;

void describe('reliability: private scopes, remembered refusals and credential checks', () => {
  let origin: OriginRegistry;
  let rc: RegcacheProcess;
  const get = (path: string, token?: string): Promise<RawResponse> => rawRequest(rc.url, path, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const ok = async (path: string, token?: string): Promise<RawResponse> => {
    const r = await get(path, token);
    assert.equal(r.status, 200, `${path}: ${r.body.toString('utf8').slice(0, 300)}`);
    return r;
  };
  const answer = (r: RawResponse): string => `${r.status} ${r.body.toString('utf8')}`;
  const upstreamCalls = (path: string, auth?: string): number =>
    origin.requests.filter((r) => r.path === path && (auth === undefined || r.authorization === auth)).length;

  before(async () => {
    origin = await startOriginRegistry();
    for (const type of ['joined', 'guessed', 'coldguess', 'cachedref', 'coldref']) {
      await origin.addProvider({ namespace: 'acme', type, versions: [{ version: '1.0.0', platforms: LINUX }], token: TOKEN });
    }
    for (const name of ['cachedmod', 'coldmod']) origin.addModule({ namespace: 'acme', name, system: 'aws', versions: ['1.0.0'], token: TOKEN });
    rc = await startRegcache(
      {
        server: { tls: false },
        terraform: {
          upstreams: [{ host: HOST, url: origin.url }],
          // Long enough that no remembered refusal lapses during the test, whatever the machine's speed.
          private: { negativeTtl: '10m', checksPerMinute: CHECKS_PER_MINUTE },
        },
      },
      { NODE_EXTRA_CA_CERTS: origin.caFile },
    );
  });
  after(async () => {
    await stopAndClean(rc);
    await origin?.stop();
  });

  void it('a request with a token that joins a tokenless load gets its own answer (point 6)', async () => {
    const versions = '/v1/providers/acme/joined/versions';
    origin.setFault(versions, { kind: 'hang' });
    const tokenless = get(`${P('joined')}/versions`);
    await until(() => upstreamCalls(versions) === 1, 'the tokenless load reached upstream');
    const withToken = get(`${P('joined')}/versions`, TOKEN);
    // Setup only: give the request with the token time to reach the running load before upstream answers it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(upstreamCalls(versions), 1, 'the request with the token joined the running load');
    origin.setFault(versions, undefined);
    assert.equal((await tokenless).status, 401);
    const r = await withToken;
    assert.equal(r.status, 200, answer(r));
    assert.equal(upstreamCalls(versions, `Bearer ${TOKEN}`), 1, 'it was loaded again with its own credential');
  });

  void it('50 identical requests for a provider that does not exist cost upstream one call (point 7)', async () => {
    const path = '/v1/providers/acme/nope/versions';
    for (let i = 0; i < 50; i++) assert.equal((await get(`${P('nope')}/versions`)).status, 404);
    const calls = upstreamCalls(path);
    report('negative-cache', { requests: 50, upstreamCalls: calls });
    assert.equal(calls, 1);
    // The same miss through the network mirror shares the remembered refusal (same key and class).
    assert.equal((await get(`/v1/mirror/${HOST}/acme/nope/index.json`)).status, 404);
    assert.equal(upstreamCalls(path), 1);
  });

  void it('30 distinct wrong tokens cost at most the scope budget in upstream checks, cached or cold (point 7)', async () => {
    const started = Date.now();
    await ok(`${P('guessed')}/versions`, TOKEN);
    const path = '/v1/providers/acme/guessed/versions';
    const coldPath = '/v1/providers/acme/coldguess/versions';
    const before = origin.requests.length;
    for (let i = 0; i < 30; i++) {
      assert.equal((await get(`${P('guessed')}/versions`, `wrong-${i}`)).status, 401);
      assert.equal((await get(`${P('coldguess')}/versions`, `wrong-${i}`)).status, 401);
    }
    const wrong = (p: string): number => origin.requests.slice(before).filter((r) => r.path === p && r.authorization?.startsWith('Bearer wrong-')).length;
    // The bucket refills CHECKS_PER_MINUTE per minute: a slow run may earn a few more tries, never one per token.
    const budget = CHECKS_PER_MINUTE + Math.floor(((Date.now() - started) / 60_000) * CHECKS_PER_MINUTE);
    report('credential-checks', { wrongTokens: 30, checksCached: wrong(path), checksCold: wrong(coldPath), budget });
    assert.ok(wrong(path) <= budget, `cached scope: ${wrong(path)} upstream checks for 30 wrong tokens`);
    assert.ok(wrong(coldPath) <= budget, `cold scope: ${wrong(coldPath)} upstream tries for 30 wrong tokens`);
    assert.equal((await get(`${P('guessed')}/versions`, TOKEN)).status, 200, 'a token upstream accepted still works while the budget is spent');
  });

  void it('a refusal reads the same whether or not the private scope is cached here (point 10)', async () => {
    // cachedref is cached with the token; coldref never was.
    const d = JSON.parse((await ok(`${P('cachedref')}/1.0.0/download/linux/amd64`, TOKEN)).body.toString('utf8')) as { download_url: string };
    await ok(new URL(d.download_url).pathname + new URL(d.download_url).search);
    await ok(`${M('cachedmod')}/versions`, TOKEN);
    const pairs: Array<[string, string, string | undefined]> = [
      ['versions, no token', '/versions', undefined],
      ['versions, wrong token', '/versions', 'wrong-refusal-token'],
      ['download answer, no token', '/1.0.0/download/linux/amd64', undefined],
    ];
    for (const [what, tail, token] of pairs) {
      const cached = await get(`${P('cachedref')}${tail}`, token);
      const cold = await get(`${P('coldref')}${tail}`, token);
      assert.equal(cached.status, 401, `${what}: ${answer(cached)}`);
      assert.equal(answer(cached), answer(cold), what);
    }
    assert.equal(answer(await get(zipOf('cachedref'))), answer(await get(zipOf('coldref'))), 'zip without a signature');
    assert.equal(answer(await get(`${M('cachedmod')}/versions`)), answer(await get(`${M('coldmod')}/versions`)), 'module versions, no token');
    assert.equal(answer(await get(`${M('cachedmod')}/1.0.0/download`, 'bad')), answer(await get(`${M('coldmod')}/1.0.0/download`, 'bad')), 'module download, wrong token');
  });
});
