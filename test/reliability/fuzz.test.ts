/**
 * Fuzz run against the built CLI: at least 10,000 generated requests (seed
 * printed, replayable) across every route prefix, sent verbatim over raw
 * TCP. Passes only with zero 5xx, zero hung requests, the process alive and
 * healthy afterwards, and zero outbound traffic to anything but the allowed
 * registry: a canary HTTPS server (trusted by regcache, so a request would
 * get through, as a calibration request proves) must see no connection at
 * all, regcache's own regcache_upstream_requests_total may grow only for the
 * origin's host, every
 * request the fake origin logged must be a registry-protocol path built
 * from validated names, and nothing may be cached under another host.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { rawRequest } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { createFuzzer, type FuzzCase } from './fuzz-cases.js';
import { auditStore, createRng, metricOf, report, seedFor, stopAndClean, until } from './support.js';
import { startCanary, writeCaBundle, type TlsServer } from './tls-servers.js';

const CASES = Number(process.env.RELIABILITY_FUZZ_CASES ?? 10_000);
const WORKERS = 16;
const HOST = 'registry.terraform.io';
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789';

/** What one raw exchange produced. */
interface Outcome {
  status: number | undefined;
  hung: boolean;
}

/** Sends one case on a fresh connection and waits for the server to answer and close (bounded). */
function send(port: number, c: FuzzCase): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers = [...c.headers];
    if (!headers.some(([k]) => k === 'host')) headers.push(['host', `127.0.0.1:${port}`]);
    headers.push(['connection', 'close']);
    if (c.body !== undefined) headers.push(['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(c.body))]);
    const head = Buffer.concat([
      Buffer.from(`${c.method} `),
      c.target,
      Buffer.from(` HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`),
      Buffer.from(c.body ?? ''),
    ]);
    let received = '';
    let settled = false;
    const socket = net.connect(port, '127.0.0.1');
    const finish = (hung: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve({ status: m?.[1] === undefined ? undefined : Number(m[1]), hung });
    };
    const timer = setTimeout(() => finish(true), 20_000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      if (received.length < 256) received += d;
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => socket.write(head));
  });
}

/** Registry-protocol paths the fake origin may legitimately be asked for (names already validated by regcache). */
const NAME = '[a-z0-9][a-z0-9_-]{0,63}';
const VERSION = '[0-9]+\\.[0-9]+\\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?';
const ORIGIN_PATHS = new RegExp(
  `^(?:/\\.well-known/terraform\\.json|/v1/providers/${NAME}/${NAME}/(?:versions|${VERSION}/download/[a-z0-9]+/[a-z0-9]+)` +
    `|/v1/modules/${NAME}/${NAME}/${NAME}/(?:versions|${VERSION}/download)|/files/(?:providers|modules)/[A-Za-z0-9._/+-]+)$`,
);

/** regcache_upstream_requests_total summed per host label. */
function upstreamByHost(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics.matchAll(/^regcache_upstream_requests_total\{[^}]*host="([^"]*)"[^}]*\} ([0-9.e+]+)$/gm)) {
    out.set(m[1] ?? '', (out.get(m[1] ?? '') ?? 0) + Number(m[2]));
  }
  return out;
}

void describe('reliability: fuzzing every route prefix', () => {
  let origin: OriginRegistry;
  let canary: TlsServer;
  let bundle: Awaited<ReturnType<typeof writeCaBundle>>;
  let p: RegcacheProcess;
  const seed = seedFor('fuzz');
  const byStatus = new Map<string, number>();
  const byKind = new Map<string, number>();
  const fivexx: string[] = [];
  const hung: string[] = [];
  const noAnswer = new Map<string, number>();
  let sent = 0;
  let upstreamBefore = new Map<string, number>();

  before(async () => {
    origin = await startOriginRegistry();
    await origin.addProvider({ namespace: 'acme', type: 'widget', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }] });
    origin.addModule({ namespace: 'acme', name: 'net', system: 'aws', versions: ['1.0.0'] });
    canary = await startCanary();
    origin.addModule({ namespace: 'acme', name: 'calib', system: 'aws', versions: ['1.0.0'], location: () => `${canary.url}/calibration.tar.gz` });
    bundle = await writeCaBundle([origin.caPem, canary.caPem]);
    p = await startRegcache(
      { server: { tls: false }, admin: { token: ADMIN_TOKEN }, terraform: { upstreams: [{ host: HOST, url: origin.url }] } },
      { NODE_EXTRA_CA_CERTS: bundle.file },
    );
    // Something real is cached, so warm paths and purges are part of the mix.
    assert.equal((await rawRequest(p.url, `/v1/mirror/${HOST}/acme/widget/1.0.0/linux_amd64/terraform-provider-widget_1.0.0_linux_amd64.zip`)).status, 200);
    // Calibration: a download URL the registry itself names may be fetched, and it does reach the
    // canary, so the canary would notice any request the fuzz smuggled through.
    await rawRequest(p.url, `/v1/modules/${HOST}/acme/calib/aws/1.0.0/archive.tar.gz`);
    assert.ok(canary.requests.some((r) => r.target === '/calibration.tar.gz'), 'the canary is reachable from regcache and trusted by it');
    canary.connections.length = 0;
    canary.requests.length = 0;
    upstreamBefore = upstreamByHost((await rawRequest(p.url, '/metrics')).body.toString('utf8'));
  });

  after(async () => {
    await stopAndClean(p);
    await canary?.stop();
    await origin?.stop();
    await bundle?.remove();
    report('fuzz', { seed, sent, byStatus: Object.fromEntries(byStatus), byKind: Object.fromEntries(byKind), noAnswer: Object.fromEntries(noAnswer), fivexx: fivexx.length, hung: hung.length, canaryConnections: canary?.connections.length, originRequests: origin?.requests.length });
  });

  void it(`${CASES} generated requests: no 5xx, no hang, no crash, no outbound request to a host that is not allowed`, { timeout: 170_000 }, async () => {
    const next = createFuzzer(createRng(seed), { canaryPort: canary.port, originPort: Number(new URL(origin.url).port), adminToken: ADMIN_TOKEN });
    const cases = Array.from({ length: CASES }, next);
    const port = Number(new URL(p.url).port);
    let i = 0;
    const worker = async (): Promise<void> => {
      while (i < cases.length) {
        const c = cases[i++];
        if (!c) return;
        const o = await send(port, c);
        sent++;
        byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
        const cls = o.status === undefined ? 'none' : `${Math.floor(o.status / 100)}xx`;
        byStatus.set(cls, (byStatus.get(cls) ?? 0) + 1);
        const label = `${c.method} ${JSON.stringify(c.target.toString('latin1').slice(0, 200))} → ${o.status}`;
        if (o.hung) hung.push(label);
        else if (o.status === undefined) noAnswer.set(`${c.kind}/${c.method}`, (noAnswer.get(`${c.kind}/${c.method}`) ?? 0) + 1);
        if (o.status !== undefined && o.status >= 500) fivexx.push(label);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));

    // Let admin warm jobs and fills started by the run finish before judging outbound traffic.
    let quiet = 0;
    await until(async () => {
      const m = await rawRequest(p.url, '/metrics');
      quiet = metricOf(m.body.toString('utf8'), 'regcache_fills_in_flight') === 0 ? quiet + 1 : 0;
      return quiet >= 8;
    }, 'background work settled', 60_000);

    assert.equal(sent, CASES);
    assert.deepEqual(fivexx.slice(0, 20), [], `${fivexx.length} answers were 5xx`);
    assert.deepEqual(hung.slice(0, 20), [], `${hung.length} requests hung`);
    assert.deepEqual([...noAnswer.keys()].filter((k) => !k.endsWith('/CONNECT')), [], 'every request but CONNECT (never tunnelled) got an HTTP answer');
    assert.equal(p.child.exitCode, null, 'the process is still running');
    assert.equal((await rawRequest(p.url, '/health')).status, 200, 'and healthy');
    assert.deepEqual(p.logs.filter((l) => l.code === 'ERR_INTERNAL' || (typeof l.level === 'number' && l.level >= 50)).slice(0, 5), [], 'no internal error logged');

    assert.deepEqual(canary.connections, [], 'the canary saw no connection');
    assert.deepEqual(canary.requests, [], 'the canary saw no request');
    const upstreamAfter = upstreamByHost((await rawRequest(p.url, '/metrics')).body.toString('utf8'));
    const contacted = [...upstreamAfter].filter(([host, n]) => n > (upstreamBefore.get(host) ?? 0)).map(([host]) => host);
    assert.deepEqual(contacted, [new URL(origin.url).host], 'during the fuzz regcache contacted only the origin behind the allowed host');
    const odd = origin.requests.filter((r) => r.method !== 'GET' || !ORIGIN_PATHS.test(r.path)).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(odd.slice(0, 20), [], 'every origin request is a registry-protocol path of validated names');

    const audit = await auditStore(`${p.dataDir}/cache`);
    assert.deepEqual(audit.corrupt, []);
    const foreign = [...audit.sha.keys()].filter((k) => /^tf\/(providers|modules|discovery)\//.test(k) && k.split('/')[2] !== HOST);
    assert.deepEqual(foreign, [], 'nothing cached under any other host');
  });
});
