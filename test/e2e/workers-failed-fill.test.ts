/**
 * Issue 17, point 10: under `server.workers: 2`, a cold fill that upstream
 * fails answers every client, on either worker, with upstream's error (its
 * code and status), never 503 ERR_STORAGE_UNAVAILABLE. The worker that
 * downloads holds the request at upstream until clients of both workers
 * wait on it; upstream then fails it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { report } from '../reliability/support.js';

const HOST = 'registry.terraform.io';
const CLIENTS = 12;

/** A GET on its own connection (so the clients spread over both workers): status and body. */
function get(base: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Waits for `cond` (a hang guard, not a timing check). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

void describe('e2e: server.workers = 2, a cold fill upstream fails', () => {
  let origin: OriginRegistry;
  let rc: RegcacheProcess;

  before(async () => {
    origin = await startOriginRegistry();
    for (const type of ['fails500', 'fails404', 'fails403']) {
      await origin.addProvider({ namespace: 'hashicorp', type, versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }] });
    }
    rc = await startRegcache({ server: { workers: 2, tls: false }, terraform: { upstreams: [{ host: HOST, url: origin.url }] } }, { NODE_EXTRA_CA_CERTS: origin.caFile });
  });
  after(async () => {
    await rc?.stop();
    await origin?.stop();
  });

  const cases = [
    { type: 'fails500', status: 500, expected: { status: 502, code: 'ERR_UPSTREAM_STATUS' } },
    { type: 'fails404', status: 404, expected: { status: 404, code: 'ERR_UPSTREAM_NOT_FOUND' } },
    { type: 'fails403', status: 403, expected: { status: 403, code: 'ERR_UPSTREAM_UNAUTHORIZED' } },
  ];
  for (const c of cases) {
    void it(`upstream ${c.status} on the zip reaches the clients of both workers as ${c.expected.status} ${c.expected.code}`, async () => {
      const file = `${c.type}_1.0.0_linux_amd64.zip`;
      const path = `/v1/mirror/${HOST}/hashicorp/${c.type}/1.0.0/linux_amd64/terraform-provider-${file}`;
      // Metadata first, so the held request is the zip download itself.
      assert.equal((await get(rc.url, `/v1/mirror/${HOST}/hashicorp/${c.type}/1.0.0.json`)).status, 200);
      origin.setFault(file, { kind: 'hang' });
      const answers = Array.from({ length: CLIENTS }, () => get(rc.url, path));
      await until(() => origin.count((p) => p.endsWith(file)) >= 1, 'the download reached upstream');
      // Setup only: clients of both workers get to wait on the one download (the other worker follows it) before it fails.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(origin.count((p) => p.endsWith(file)), 1, 'one download for all clients');
      origin.setFault(file, { kind: 'status', status: c.status });
      const got = await Promise.all(answers);
      origin.clearFaults();
      await until(() => rc.logs.filter((l) => l.msg === 'request' && l.path === path).length === CLIENTS, 'request lines');
      const workers = new Set(rc.logs.filter((l) => l.msg === 'request' && l.path === path).map((l) => l.worker));
      const outcomes = got.map((r) => `${r.status} ${(JSON.parse(r.body) as { code?: string }).code ?? ''}`);
      report(`workers-failed-fill-${c.status}`, { clients: CLIENTS, workers: [...workers], outcomes: [...new Set(outcomes)], storage503: outcomes.filter((o) => o.startsWith('503')).length });
      assert.deepEqual([...workers].sort(), [1, 2], 'clients of both workers');
      for (const o of outcomes) assert.equal(o, `${c.expected.status} ${c.expected.code}`);
    });
  }
});
