/**
 * `server.workers: 2`, started the README way: one primary and two worker
 * processes behind one port. A cold zip asked for through both workers is
 * downloaded once and streams to every client while the download runs;
 * metrics and stats count every worker; a purge reaches every worker's
 * memory; a killed worker comes back; SIGTERM stops everything cleanly.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { httpsRequest } from '../fakes/https-request.js';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';

const TOKEN = 'workers-test-admin-token-0123456789';
const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');
const ZIP = '/v1/mirror/registry.terraform.io/hashicorp/big/1.0.0/linux_amd64/terraform-provider-big_1.0.0_linux_amd64.zip';
const INDEX = '/v1/mirror/registry.terraform.io/hashicorp/small/index.json';

let origin: OriginRegistry;
let rc: RegcacheProcess;
let ca: string;

/** Waits for `cond`, failing with `what` after a generous deadline (a hang, not a speed check). */
async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A GET on its own connection that records when its first body byte came. */
function streamingGet(url: string): { firstByte: Promise<void>; done: Promise<{ status: number; body: Buffer }>; got: () => number } {
  let received = 0;
  let onFirst: () => void = () => undefined;
  const firstByte = new Promise<void>((r) => {
    onFirst = r;
  });
  const done = new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (received === 0) onFirst();
          received += c.length;
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
  return { firstByte, done, got: () => received };
}

/** A GET that never rejects: its status, the bytes that came, and whether the body ended normally. */
function settle(url: string): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve) => {
    let status = 0;
    let bytes = 0;
    https
      .get(url, { ca, agent: false }, (res) => {
        status = res.statusCode ?? 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        res.on('end', () => resolve({ status, bytes, complete: res.complete }));
        res.on('error', () => resolve({ status, bytes, complete: false }));
        res.on('aborted', () => resolve({ status, bytes, complete: false }));
      })
      .on('error', () => resolve({ status, bytes, complete: false }));
  });
}

const linesFor = (path: string): Array<Record<string, unknown>> => rc.logs.filter((l) => l.path === path && l.msg === 'request');
const workerPids = (): Map<number, number> => new Map(rc.logs.filter((l) => l.msg === 'worker listening').map((l) => [l.worker as number, l.pid as number]));

void describe('e2e: server.workers = 2', () => {
  before(async () => {
    origin = await startOriginRegistry();
    await origin.addProvider({ namespace: 'hashicorp', type: 'big', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: 3_000_000 }] });
    await origin.addProvider({ namespace: 'hashicorp', type: 'ranged', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: 3_000_000 }] });
    await origin.addProvider({ namespace: 'hashicorp', type: 'bad', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: 3_000_000 }] });
    await origin.addProvider({ namespace: 'hashicorp', type: 'small', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }] });
    rc = await startRegcache({ server: { workers: 2 }, admin: { token: TOKEN }, terraform: { upstreams: [{ host: 'registry.terraform.io', url: origin.url }] } }, { NODE_EXTRA_CA_CERTS: origin.caFile });
    ca = await readFile(rc.caPath ?? '', 'utf8');
  });
  after(async () => {
    await rc?.stop();
    await origin?.stop();
  });

  void it('starts two workers behind one port, with one CA', () => {
    const pids = workerPids();
    assert.deepEqual([...pids.keys()].sort(), [1, 2]);
    assert.equal(new Set(pids.values()).size, 2);
    assert.equal(rc.logs.filter((l) => l.msg === 'regcache listening').length, 1);
    assert.equal(rc.logs.filter((l) => l.msg === 'self-signed TLS in use: clients must trust this CA').length >= 1, true);
  });

  void it('a cold zip is downloaded once and streams to the clients of both workers while it downloads', async () => {
    // The origin sends 1.5 MB and then holds the rest: every client must have bytes before the download can finish.
    origin.setFault('big_1.0.0_linux_amd64.zip', { kind: 'hangBody', afterBytes: 1_500_000 });
    const clients = Array.from({ length: 12 }, () => streamingGet(`${rc.url}${ZIP}`));
    await until(() => clients.every((c) => c.got() > 0), 'every client received bytes while upstream was held');
    assert.deepEqual(linesFor(ZIP), [], 'no client finished while upstream was held');
    origin.setFault('big_1.0.0_linux_amd64.zip', undefined);
    const expected = sha(origin.zipBytes('hashicorp', 'big', '1.0.0', 'linux', 'amd64'));
    for (const c of clients) {
      const r = await c.done;
      assert.equal(r.status, 200, r.body.subarray(0, 200).toString());
      assert.equal(sha(r.body), expected);
    }
    assert.equal(origin.count((p) => p.endsWith('big_1.0.0_linux_amd64.zip'), 'GET'), 1);
    await until(() => linesFor(ZIP).length === 12, 'all request lines written');
    const workers = new Set(linesFor(ZIP).map((l) => l.worker));
    assert.deepEqual([...workers].sort(), [1, 2], 'clients of both workers were served');
    assert.ok(linesFor(ZIP).every((l) => l.cache === 'miss'));
  });

  void it('Range requests on both workers are answered from a download still running', async () => {
    const path = ZIP.replace(/big/g, 'ranged');
    origin.setFault('ranged_1.0.0_linux_amd64.zip', { kind: 'hangBody', afterBytes: 1_500_000 });
    const leader = streamingGet(`${rc.url}${path}`);
    await leader.firstByte;
    const whole = origin.zipBytes('hashicorp', 'ranged', '1.0.0', 'linux', 'amd64');
    // Completed while upstream is held: the bytes come from the running fill, in whichever worker runs it.
    const answers = await Promise.all(Array.from({ length: 6 }, () => httpsRequest(`${rc.url}${path}`, { ca, headers: { range: 'bytes=100-199' } })));
    for (const r of answers) {
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 100-199/${whole.length}`);
      assert.deepEqual(r.body, whole.subarray(100, 200));
    }
    const beyond = await httpsRequest(`${rc.url}${path}`, { ca, headers: { range: `bytes=${whole.length + 10}-` } });
    assert.equal(beyond.status, 416);
    origin.setFault('ranged_1.0.0_linux_amd64.zip', undefined);
    assert.equal(sha((await leader.done).body), sha(whole));
    await until(() => linesFor(path).length === 8, 'request lines');
    assert.deepEqual([...new Set(linesFor(path).map((l) => l.worker))].sort(), [1, 2], 'both workers answered');
    assert.equal(origin.count((p) => p.endsWith('ranged_1.0.0_linux_amd64.zip'), 'GET'), 1);
  });

  void it('a download that fails verification reaches no client of either worker whole, and is fetched again next time', async () => {
    const path = ZIP.replace(/big/g, 'bad');
    origin.setFault('bad_1.0.0_linux_amd64.zip', { kind: 'wrongShasum' });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => settle(`${rc.url}${path}`)));
    const expected = origin.zipBytes('hashicorp', 'bad', '1.0.0', 'linux', 'amd64');
    for (const o of outcomes) assert.ok(!(o.status === 200 && o.complete), `a client got a whole answer (${o.status}, ${o.bytes} bytes)`);
    await until(() => linesFor(path).length === 8, 'request lines');
    assert.deepEqual([...new Set(linesFor(path).map((l) => l.worker))].sort(), [1, 2], 'clients of both workers');
    assert.equal(origin.count((p) => p.endsWith('bad_1.0.0_linux_amd64.zip'), 'GET'), 1);
    origin.setFault('bad_1.0.0_linux_amd64.zip', undefined);
    const again = await httpsRequest(`${rc.url}${path}`, { ca });
    assert.equal(again.status, 200);
    assert.equal(sha(again.body), sha(expected));
    assert.equal(origin.count((p) => p.endsWith('bad_1.0.0_linux_amd64.zip'), 'GET'), 2);
    assert.equal((await httpsRequest(`${rc.url}/health`, { ca })).status, 200);
  });

  void it('metrics and stats count the requests of every worker', async () => {
    const before = (await httpsRequest(`${rc.url}/admin/stats`, { ca, headers: { authorization: `Bearer ${TOKEN}` } })).body;
    const requestsBefore = (JSON.parse(before.toString()) as { sinceStart: { requests: number } }).sinceStart.requests;
    const linesBefore = linesFor(INDEX).length;
    for (let i = 0; i < 10; i++) assert.equal((await httpsRequest(`${rc.url}${INDEX}`, { ca })).status, 200);
    await until(() => linesFor(INDEX).length === linesBefore + 10, 'request lines');
    assert.deepEqual([...new Set(linesFor(INDEX).map((l) => l.worker))].sort(), [1, 2], 'both workers answered');
    const metrics = (await httpsRequest(`${rc.url}/metrics`, { ca })).body.toString();
    const indexCount = metrics
      .split('\n')
      .filter((l) => l.startsWith('regcache_requests_total{') && l.includes('kind="metadata"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    assert.equal(indexCount, linesFor(INDEX).length, 'metadata requests summed over workers');
    const stats = JSON.parse((await httpsRequest(`${rc.url}/admin/stats`, { ca, headers: { authorization: `Bearer ${TOKEN}` } })).body.toString()) as { sinceStart: { requests: number } };
    assert.equal(stats.sinceStart.requests, requestsBefore + 10);
  });

  void it('a purge on one worker reaches the memory of the other', async () => {
    // Both workers hold index.json (1.0.0 only) in memory by now. Upstream publishes 2.0.0; only a purge shows it before the ttl.
    await origin.addProvider({ namespace: 'hashicorp', type: 'bad', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: 3_000_000 }] });
    await origin.addProvider({ namespace: 'hashicorp', type: 'small', versions: [{ version: '2.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }] });
    const stale = await httpsRequest(`${rc.url}${INDEX}`, { ca });
    assert.deepEqual(Object.keys((JSON.parse(stale.body.toString()) as { versions: object }).versions), ['1.0.0'], 'cached before the purge');
    const purged = await httpsRequest(`${rc.url}/v1/mirror/registry.terraform.io/hashicorp/small`, { ca, method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(purged.status, 200);
    const linesBefore = linesFor(INDEX).length;
    for (let i = 0; i < 10; i++) {
      const r = await httpsRequest(`${rc.url}${INDEX}`, { ca });
      assert.deepEqual(Object.keys((JSON.parse(r.body.toString()) as { versions: object }).versions).sort(), ['1.0.0', '2.0.0'], `answer ${i} after the purge`);
    }
    await until(() => linesFor(INDEX).length === linesBefore + 10, 'request lines');
    assert.deepEqual([...new Set(linesFor(INDEX).slice(linesBefore).map((l) => l.worker))].sort(), [1, 2], 'both workers answered after the purge');
  });

  void it('a worker that dies is restarted and the port keeps answering', async () => {
    const pid = workerPids().get(2);
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await until(() => rc.logs.some((l) => l.msg === 'worker exited; restarting it' && l.worker === 2), 'restart logged');
    await until(() => rc.logs.some((l) => l.msg === 'worker back' && l.worker === 2), 'worker back');
    assert.notEqual(workerPids().get(2), pid);
    const linesBefore = linesFor(INDEX).length;
    for (let i = 0; i < 6; i++) assert.equal((await httpsRequest(`${rc.url}${INDEX}`, { ca })).status, 200);
    await until(() => linesFor(INDEX).length === linesBefore + 6, 'request lines');
    assert.ok(linesFor(INDEX).slice(linesBefore).some((l) => l.worker === 2), 'the new worker 2 answered');
  });

  void it('SIGTERM stops the workers and the primary, and removes the socket directory', async () => {
    const before = (await readdir(tmpdir())).filter((d) => d.startsWith('regcache-workers-'));
    assert.equal(await rc.stop(), 0);
    assert.ok(rc.logs.some((l) => l.msg === 'regcache stopped' && l.role === 'primary'));
    const left = (await readdir(tmpdir())).filter((d) => d.startsWith('regcache-workers-'));
    assert.equal(left.length, before.length - 1);
  });

  void it('the stored totals count the requests of every worker, to the last one before the stop', async () => {
    // Counts of the killed worker (never flushed) are gone; the others' are all there, worker 2's after its restart included.
    const back = rc.logs.findIndex((l) => l.msg === 'worker back');
    const served = rc.logs.filter((l, i) => l.msg === 'request' && String(l.path).startsWith('/v1/mirror/') && l.method === 'GET' && (l.worker === 1 || i > back)).length;
    const again = await startRegcache({ storage: { path: rc.dataDir }, admin: { token: TOKEN }, server: { tls: false } });
    try {
      const stats = (await (await fetch(`${again.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { total: { requests: number } };
      assert.equal(stats.total.requests, served);
    } finally {
      await again.stop();
    }
  });
});

void describe('e2e: server.workers when a worker cannot start', () => {
  void it('a port already taken stops the primary with exit code 1 and says why', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      await assert.rejects(
        startRegcache({ server: { workers: 2, listen: `127.0.0.1:${port}`, tls: false } }),
        (err: Error) => {
          assert.match(err.message, /exited \(1\) before listening/);
          assert.match(err.message, /worker failed to start; stopping/);
          assert.match(err.message, /EADDRINUSE/);
          return true;
        },
      );
    } finally {
      taken.close();
    }
  });
});

void describe('e2e: server.workers with stdout redirected to a file', () => {
  void it('every worker appends whole lines to the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'regcache-workers-log-'));
    const config = join(dir, 'regcache.yaml');
    await writeFile(config, `server:\n  listen: 127.0.0.1:0\n  tls: false\n  workers: 2\nstorage:\n  path: ${join(dir, 'data')}\n`);
    const logFile = join(dir, 'out.log');
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)), 'serve', '--config', config], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = async (): Promise<Array<Record<string, unknown>>> =>
      (await readFile(logFile, 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    try {
      let url: string | undefined;
      for (let i = 0; i < 300 && url === undefined; i++) {
        url = (await lines().catch(() => [])).find((l) => l.msg === 'regcache listening')?.url as string | undefined;
        if (url === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(url, 'listening line');
      // Many answers at once on separate connections, so both workers write at the same time.
      await Promise.all(Array.from({ length: 200 }, () => fetch(`${url}/health`, { headers: { connection: 'close' } }).then((r) => r.text())));
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, (await readFile(logFile, 'utf8')).slice(-3000));
    }
    // Every line parses (a torn line would not) and both workers wrote request lines.
    const all = await lines();
    const health = all.filter((l) => l.msg === 'request' && l.path === '/health');
    assert.equal(health.length, 200);
    assert.deepEqual([...new Set(health.map((l) => l.worker))].sort(), [1, 2]);
  });
});
