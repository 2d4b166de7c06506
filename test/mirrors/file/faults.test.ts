/**
 * The `file` mode against a misbehaving upstream, end to end (regcache as
 * a process, curl / wget as clients, two loopback origins, the second over
 * HTTPS): upstream order and fallback, outages, timeouts, truncated and
 * corrupted bodies, N cold clients on one download, hostile paths.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type DigestHeader, type FileOrigin } from '../../fakes/file-origin.js';
import { rawRequest, assertJsonError } from '../../integration/http-client.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { bytes, curl, curlHead, objectFile, startFileCache, storedFiles, wget } from './support.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let a: FileOrigin;
let b: FileOrigin;
let p: RegcacheProcess;

/** Whether the store holds an object for this file path. */
async function stored(path: string): Promise<boolean> {
  return (await storedFiles(p.dataDir)).includes(objectFile(path));
}

void describe('file mode: upstream faults', () => {
  before(async () => {
    a = await startFileOrigin();
    b = await startFileOrigin({ tls: true });
    p = await startFileCache(
      {
        upstreams: [a.url, b.url],
        default_policy: 'immutable',
        rules: [
          { match: 'fresh/**', policy: 'revalidate', fresh_for: '0s', busy_policy: 'stale' },
          { match: 'through/**', policy: 'bypass' },
        ],
      },
      { instances: [{ name: 'impatient', file: { route: { path: '/impatient' }, upstreams: [a.url, b.url], default_policy: 'immutable', transport: { timeout: '1s' } } }] },
      { NODE_EXTRA_CA_CERTS: b.caFile },
    );
  });
  after(async () => {
    await p?.stop();
    await a?.close();
    await b?.close();
  });

  void it('upstreams are tried in order: past a refused connection and a 5xx to the second; a 404 is final', async () => {
    const one = bytes(5000, 1);
    const two = bytes(5000, 2);
    b.put('/order/one.bin', one);
    b.put('/order/two.bin', two);
    b.put('/order/three.bin', bytes(10, 3));
    await a.down();
    try {
      const r = await curl('-f', `${p.url}/files/order/one.bin`);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.equals(one));
    } finally {
      await a.up();
    }
    a.fault('/order/two.bin', { kind: 'status', status: 503 });
    const two1 = await wget(`${p.url}/files/order/two.bin`);
    assert.ok(two1.file?.equals(two), two1.stderr);
    assert.equal(a.count('/order/two.bin'), 1, 'the first upstream was asked');
    assert.equal(b.count('/order/two.bin'), 1, 'then the second');
    a.fault('/order/two.bin', undefined);

    const three = await curlHead(`${p.url}/files/order/three.bin`);
    assert.equal(three.status, 404);
    assert.equal((JSON.parse(three.body.toString()) as { code: string }).code, 'ERR_UPSTREAM_NOT_FOUND');
    assert.equal(a.count('/order/three.bin'), 1);
    assert.equal(b.count('/order/three.bin'), 0, 'a 404 is not retried on the next upstream');
  });

  void it('upstreams down: a cached revalidate file is served stale; an uncached one is a 502 JSON error', async () => {
    const doc = bytes(2000, 4);
    a.put('/fresh/doc.json', doc);
    assert.ok((await curl('-f', `${p.url}/files/fresh/doc.json`)).stdout.equals(doc));
    await a.down();
    await b.down();
    try {
      const stale = await wget(`${p.url}/files/fresh/doc.json`);
      assert.equal(stale.code, 0, stale.stderr);
      assert.ok(stale.file?.equals(doc), 'the stored copy is served while no upstream answers');
      const cold = await rawRequest(p.url, '/files/fresh/missing.json');
      assertJsonError(cold, 502, 'ERR_UPSTREAM_UNREACHABLE', 'uncached, every upstream down');
    } finally {
      await a.up();
      await b.up();
    }
  });

  void it('an upstream that does not answer in time is a 504 JSON error after every upstream was tried', async () => {
    a.put('/slow/x.bin', bytes(10, 5));
    a.fault('/slow/', { kind: 'stall' });
    b.fault('/slow/', { kind: 'stall' });
    try {
      assertJsonError(await rawRequest(p.url, '/impatient/slow/x.bin'), 504, 'ERR_UPSTREAM_TIMEOUT', 'stalled upstreams');
      assert.equal(a.count('/slow/x.bin') + b.count('/slow/x.bin'), 2);
    } finally {
      a.fault('/slow/', undefined);
      b.fault('/slow/', undefined);
    }
    assert.deepEqual((await storedFiles(p.dataDir)).filter((f) => f.startsWith('impatient/')), []);
  });

  void it('a truncated body is an error, nothing is stored, and the next request after the fault succeeds', async () => {
    const big = bytes(400_000, 6);
    a.put('/cut/big.bin', big);
    a.fault('/cut/', { kind: 'truncate', after: 150_000 });
    const cut = await curl('-f', `${p.url}/files/cut/big.bin`);
    assert.notEqual(cut.code, 0, 'curl reports the cut transfer');
    assert.ok(cut.stdout.length < big.length && cut.stdout.equals(big.subarray(0, cut.stdout.length)), 'only a true prefix reached the client');
    assert.equal(await stored('cut/big.bin'), false, 'nothing stored');
    a.fault('/cut/', undefined);
    const ok = await curl('-f', `${p.url}/files/cut/big.bin`);
    assert.equal(sha(ok.stdout), sha(big));
    assert.equal(a.count('/cut/big.bin'), 2);
    assert.equal(await stored('cut/big.bin'), true);
  });

  const headers: DigestHeader[] = ['repr-digest', 'repr-digest-sha512', 'content-digest', 'digest', 'x-checksum-sha256'];
  for (const digest of headers) {
    void it(`bytes that do not match the upstream's ${digest} are refused and not stored; fixed, they are`, async () => {
      const file = `/digest/${digest}.bin`;
      const body = bytes(200_000, 7);
      a.put(file, body, { digest });
      a.fault(file, { kind: 'corrupt' });
      const bad = await curl('-f', `${p.url}/files${file}`);
      assert.notEqual(bad.code, 0, 'the client sees a failed transfer');
      assert.notEqual(sha(bad.stdout), sha(body));
      assert.equal(await stored(file.slice(1)), false);
      a.fault(file, undefined);
      const good = await wget(`${p.url}/files${file}`);
      assert.ok(good.file?.equals(body), good.stderr);
      assert.equal(await stored(file.slice(1)), true);
    });
  }

  void it('a small file (held back whole) that fails its digest answers 502 ERR_INTEGRITY_MISMATCH', async () => {
    a.put('/digest/small.txt', bytes(1000, 10), { digest: 'repr-digest' });
    a.fault('/digest/small.txt', { kind: 'corrupt' });
    assertJsonError(await rawRequest(p.url, '/files/digest/small.txt'), 502, 'ERR_INTEGRITY_MISMATCH', 'corrupted small file');
    assert.equal(await stored('digest/small.txt'), false);
    a.fault('/digest/small.txt', undefined);
  });

  void it('bypass: a corrupted body with a digest reaches the client as a cut transfer, never a complete one', async () => {
    const body = bytes(100_000, 8);
    a.put('/through/x.bin', body, { digest: 'repr-digest' });
    a.fault('/through/', { kind: 'corrupt' });
    const bad = await curl('-f', `${p.url}/files/through/x.bin`);
    assert.equal(bad.code, 18, `curl: partial file (${bad.stderr})`);
    a.fault('/through/', undefined);
    assert.ok((await curl('-f', `${p.url}/files/through/x.bin`)).stdout.equals(body));
  });

  void it('20 cold clients: one upstream GET, every client streamed the same bytes', async () => {
    const body = bytes(3_000_000, 9);
    a.put('/many/tool.tar.gz', body);
    a.fault('/many/', { kind: 'hold', after: 1_000_000 });
    const started: Array<Promise<void>> = [];
    const runs = Array.from({ length: 20 }, () => {
      const child = spawn('curl', ['-sS', '-f', '--noproxy', '*', `${p.url}/files/many/tool.tar.gz`], { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      started.push(new Promise((r) => child.stdout.once('data', () => r()).once('close', () => r())));
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      return new Promise<{ code: number | null; body: Buffer }>((r) => child.once('close', (code) => r({ code, body: Buffer.concat(chunks) })));
    });
    // Every client is streaming the held download before the upstream sends the rest.
    await Promise.all(started);
    a.fault('/many/', undefined);
    const done = await Promise.all(runs);
    for (const d of done) {
      assert.equal(d.code, 0);
      assert.equal(sha(d.body), sha(body));
    }
    assert.equal(a.count('/many/tool.tar.gz'), 1, 'one upstream GET');
  });

  void it('hostile paths are answered 4xx without any upstream request', async () => {
    const before = a.requests.length + b.requests.length;
    const targets = [
      '/files/../etc/passwd',
      '/files/a/../../x',
      '/files/a/%2e%2e/b',
      '/files/a%2fb',
      '/files/a%5cb',
      '/files/a%00b',
      '/files/a/./b',
      '/files//a',
      '/files/%',
      `/files/${'x'.repeat(300)}`,
      `/files/${Array.from({ length: 15 }, (_, i) => `d${i}`).join('/')}`,
      `/files/${Array.from({ length: 7 }, () => 'y'.repeat(250)).join('/')}`,
      '/files/',
    ];
    for (const t of targets) {
      const r = await rawRequest(p.url, t);
      assert.ok(r.status >= 400 && r.status < 500, `${t.slice(0, 60)} → ${r.status}`);
      assert.match(String(r.headers['content-type']), /json/);
    }
    const viaCurl = await curlHead('--path-as-is', `${p.url}/files/../../etc/passwd`);
    assert.equal(viaCurl.status, 400);
    assert.equal(a.requests.length + b.requests.length, before, 'no upstream request');
  });
});
