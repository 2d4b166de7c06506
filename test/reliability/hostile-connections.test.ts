/**
 * Hostile connections against the built CLI (a child process): oversized
 * request heads, slowloris clients (trickling header bytes, or stopping
 * mid-request), and hundreds of idle sockets. Throughout, normal requests
 * must keep succeeding with the right bytes, the server must close what it
 * cannot serve, and the descriptors it held must be released afterwards.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { rawRequest } from '../integration/http-client.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { report, sha256, stopAndClean, until } from './support.js';

const HOST = 'registry.terraform.io';
const ZIP = `/v1/mirror/${HOST}/acme/widget/1.0.0/linux_amd64/terraform-provider-widget_1.0.0_linux_amd64.zip`;
const INDEX = `/v1/mirror/${HOST}/acme/widget/index.json`;
const SLOW_CLIENTS = 20;
const IDLE = 500;
/** Upper bound for the server to cut a stalled request head: headersTimeout 20 s + Node's 30 s check interval + slack. */
const SLOW_CLOSE_LIMIT_MS = 70_000;

/** One raw TCP exchange: the first bytes answered and whether/when the server closed. */
interface RawConn {
  socket: net.Socket;
  openedAt: number;
  closedAt: number | undefined;
  received: string;
}

function connect(port: number): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const conn: RawConn = { socket, openedAt: Date.now(), closedAt: undefined, received: '' };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      if (conn.received.length < 4096) conn.received += d;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      conn.closedAt = Date.now();
    });
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

/** Sends `head` on a fresh connection and resolves once the server closed it (bounded). */
async function sendHead(port: number, head: string): Promise<RawConn> {
  const c = await connect(port);
  c.socket.write(head);
  await until(() => c.closedAt !== undefined || /\r\n\r\n/.test(c.received), 'an answer or a close');
  c.socket.destroy();
  return c;
}

const statusOf = (received: string): number | undefined => {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

void describe('reliability: hostile connections', () => {
  let origin: OriginRegistry;
  let p: RegcacheProcess;
  let port = 0;
  let zipSha = '';
  const slow: RawConn[] = [];
  const timers: NodeJS.Timeout[] = [];
  const counts = { oversizedHeads: 0, slowClients: 0, idleSockets: 0, idleClosedByServer: 0, normalRequestsDuringAbuse: 0, maxFds: 0, baselineFds: 0 };

  const fds = (): number => {
    const pid = p.child.pid;
    try {
      return pid === undefined ? 0 : readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return 0;
    }
  };

  /** A batch of normal requests; every one must succeed with the right bytes. */
  async function normalTraffic(n: number): Promise<void> {
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => rawRequest(p.url, i % 3 === 0 ? INDEX : i % 3 === 1 ? ZIP : '/health')));
    answers.forEach((r, i) => {
      assert.equal(r.status, 200, `normal request ${i}: ${r.body.toString('utf8').slice(0, 200)}`);
      assert.ok(r.complete);
      if (i % 3 === 1) assert.equal(sha256(r.body), zipSha, 'zip intact');
    });
    counts.normalRequestsDuringAbuse += n;
  }

  before(async () => {
    origin = await startOriginRegistry();
    await origin.addProvider({ namespace: 'acme', type: 'widget', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }] });
    zipSha = sha256(origin.zipBytes('acme', 'widget', '1.0.0', 'linux', 'amd64'));
    p = await startRegcache({ server: { tls: false }, terraform: { upstreams: [{ host: HOST, url: origin.url }] } }, { NODE_EXTRA_CA_CERTS: origin.caFile });
    port = Number(new URL(p.url).port);
    await normalTraffic(3);

    // Slowloris, started first so the server's timers run while the other tests hammer it.
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const c = await connect(port);
      slow.push(c);
      if (i % 2 === 0) {
        c.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: `);
        timers.push(setInterval(() => c.closedAt === undefined && c.socket.write('a'), 500));
      } else {
        c.socket.write('GET /v1/mirror/regis');
      }
    }
    counts.slowClients = slow.length;
    await normalTraffic(3);
    counts.baselineFds = fds();
  });

  after(async () => {
    for (const t of timers) clearInterval(t);
    for (const c of slow) c.socket.destroy();
    await stopAndClean(p);
    await origin?.stop();
    const closeMs = slow.filter((c) => c.closedAt !== undefined).map((c) => (c.closedAt ?? 0) - c.openedAt);
    const slowAnswers = [...new Set(slow.map((c) => statusOf(c.received) ?? 'none'))];
    report('hostile-connections', { ...counts, oversizedAnswers, slowAnswers, slowClosedAfterMs: closeMs.length > 0 ? [Math.min(...closeMs), Math.max(...closeMs)] : [] });
  });

  const oversized: Array<[string, () => string]> = [
    ['one 20 KiB header', () => `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n`],
    ['400 headers of 60 bytes', () => `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'h'.repeat(50)}\r\n`).join('')}\r\n`],
    ['a 20 KiB request target', () => `GET /v1/mirror/${'x'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a 64 KiB cookie', () => `GET ${INDEX} HTTP/1.1\r\nHost: x\r\nCookie: ${'c=1; '.repeat(13_000)}\r\n\r\n`],
  ];

  const oversizedAnswers: Array<[string, number | undefined]> = [];

  void it(`${oversized.length} oversized request heads (over the 16 KiB limit) are refused with a 4xx or a close; the server stays healthy after each`, async () => {
    for (const [label, head] of oversized) {
      const c = await sendHead(port, head());
      counts.oversizedHeads++;
      const status = statusOf(c.received);
      oversizedAnswers.push([label, status]);
      assert.ok(status === undefined ? c.received === '' : status >= 400 && status < 500, `${label}: answered ${JSON.stringify(c.received.split('\r\n')[0])}`);
      await normalTraffic(3);
    }
  });

  void it('an oversized request head is answered 431 Request Header Fields Too Large (or the connection closed), not a generic 400', () => {
    const wrong = oversizedAnswers.filter(([, status]) => status !== 431 && status !== undefined);
    assert.deepEqual(wrong, [], 'clients (and proxies) cannot tell an oversized head from a malformed one');
  });

  void it('a 12 KiB head (under the limit) is still served normally', async () => {
    const r = await rawRequest(p.url, INDEX, { headers: { 'x-padding': 'p'.repeat(12 * 1024) } });
    assert.equal(r.status, 200);
  });

  void it(`${IDLE} idle sockets (half never sent a byte, half idle after a keep-alive request) do not stop normal requests; their descriptors are released`, async () => {
    const idle: RawConn[] = [];
    try {
      for (let i = 0; i < IDLE; i++) {
        const c = await connect(port);
        if (i % 2 === 1) c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
        idle.push(c);
      }
      counts.idleSockets = idle.length;
      await until(() => idle.filter((c, i) => i % 2 === 1 && statusOf(c.received) === 200).length === IDLE / 2, 'keep-alive requests answered');
      // Slack for sockets of the baseline that were already closing (slow clients, keep-alive upstream connections).
      await until(() => fds() >= counts.baselineFds + IDLE - SLOW_CLIENTS - 10, 'the server holds the idle sockets');
      counts.maxFds = fds();
      await normalTraffic(60);
      counts.idleClosedByServer = idle.filter((c) => c.closedAt !== undefined).length;
    } finally {
      for (const c of idle) c.socket.destroy();
    }
    await until(() => fds() <= counts.baselineFds + 10, `descriptors back near the baseline of ${counts.baselineFds} (now ${fds()})`);
    await normalTraffic(6);
  });

  void it('slowloris clients are cut by the server (headers timeout) while everyone else is served', { timeout: SLOW_CLOSE_LIMIT_MS + 10_000 }, async () => {
    const deadline = Math.min(...slow.map((c) => c.openedAt)) + SLOW_CLOSE_LIMIT_MS;
    while (slow.some((c) => c.closedAt === undefined) && Date.now() < deadline) {
      await normalTraffic(3);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const open = slow.filter((c) => c.closedAt === undefined).length;
    assert.equal(open, 0, `${open} of ${slow.length} slow clients still connected ${SLOW_CLOSE_LIMIT_MS} ms after they started`);
    for (const c of slow) {
      const status = statusOf(c.received);
      assert.ok(status === undefined || (status >= 400 && status < 500), `a stalled head gets no answer or a 4xx, got ${status}`);
    }
    assert.equal((await rawRequest(p.url, '/health')).status, 200);
    assert.equal(p.child.exitCode, null);
  });
});
