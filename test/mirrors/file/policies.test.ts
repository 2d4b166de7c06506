/**
 * The `file` mode's policies end to end (regcache as a process from a YAML
 * config, curl and wget as clients, a loopback origin): immutable,
 * bypass, revalidate with 304s counted, fresh_for, expire_after, rules and
 * their precedence, not_found_ttl, pass_headers, and HEAD / Range / ETag
 * for clients.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { bytes, curl, curlHead, metricsOf, metricSum, objectFile, startFileCache, storedFiles, wget } from './support.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let o: FileOrigin;
let p: RegcacheProcess;

async function stored(path: string): Promise<boolean> {
  return (await storedFiles(p.dataDir)).includes(objectFile(path));
}

void describe('file mode: policies', () => {
  before(async () => {
    o = await startFileOrigin();
    p = await startFileCache({
      upstreams: [o.url],
      pass_headers: ['X-Custom', 'Authorization'],
      not_found_ttl: '1h',
      rules: [
        { match: 'imm/**', policy: 'immutable' },
        { match: 'imm/live/**', policy: 'revalidate' },
        { match: 'rev/**', policy: 'revalidate', fresh_for: '0s' },
        { match: 'fresh/**', policy: 'revalidate', fresh_for: 'forever' },
        { match: 'short/**', policy: 'revalidate', fresh_for: '1s' },
        { match: 'exp/**', policy: 'immutable', expire_after: '1s' },
        { match: 'exp/keep/**', expire_after: 'never' },
      ],
    });
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('immutable: fetched once, then served from the store even after upstream changed', async () => {
    const v1 = bytes(300_000, 1);
    o.put('/imm/tool.tar.gz', v1);
    const cold = await curl('-f', `${p.url}/files/imm/tool.tar.gz`);
    assert.equal(sha(cold.stdout), sha(v1));
    o.put('/imm/tool.tar.gz', bytes(300_000, 2));
    const warm = await wget(`${p.url}/files/imm/tool.tar.gz`);
    assert.ok(warm.file?.equals(v1), warm.stderr);
    assert.equal(o.count('/imm/tool.tar.gz'), 1);
    assert.equal(o.conditional('/imm/tool.tar.gz').asked, 0);
  });

  void it('HEAD, Range and ETag work for clients on a stored file', async () => {
    const body = bytes(100_000, 3);
    o.put('/imm/range.bin', body);
    const head = await curlHead('-I', `${p.url}/files/imm/range.bin`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(body.length));
    assert.equal(o.count('/imm/range.bin'), 0, 'a HEAD of an uncached file does not download it');
    assert.equal(o.count('/imm/range.bin', 'HEAD'), 1);
    await curl('-f', '-o', '/dev/null', `${p.url}/files/imm/range.bin`);
    const part = await curlHead('-r', '1000-1999', `${p.url}/files/imm/range.bin`);
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-1999/${body.length}`);
    assert.ok(part.body.equals(body.subarray(1000, 2000)));
    const full = await curlHead(`${p.url}/files/imm/range.bin`);
    assert.equal(full.headers['etag'], `"${sha(body)}"`);
    assert.match(full.headers['cache-control'] ?? '', /immutable/);
    assert.ok(full.headers['last-modified']);
    const again = await curlHead('-H', `If-None-Match: ${full.headers['etag']}`, `${p.url}/files/imm/range.bin`);
    assert.equal(again.status, 304);
    assert.equal(o.count('/imm/range.bin'), 1);
  });

  void it('bypass (the default): every request goes upstream, Range and HEAD included, and nothing is stored', async () => {
    const body = bytes(50_000, 4);
    o.put('/plain/x.bin', body);
    for (let i = 0; i < 2; i++) assert.ok((await curl('-f', `${p.url}/files/plain/x.bin`)).stdout.equals(body));
    assert.ok((await wget(`${p.url}/files/plain/x.bin`)).file?.equals(body));
    assert.equal(o.count('/plain/x.bin'), 3);
    const part = await curlHead('-r', '10-19', `${p.url}/files/plain/x.bin`);
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(body.subarray(10, 20)));
    assert.equal(o.requests.at(-1)?.headers.range, 'bytes=10-19', 'the Range went upstream');
    assert.equal((await curlHead('-I', `${p.url}/files/plain/x.bin`)).headers['content-length'], String(body.length));
    assert.equal(o.count('/plain/x.bin', 'HEAD'), 1);
    assert.equal(await stored('plain/x.bin'), false);
  });

  void it('revalidate: a stale copy is revalidated with its validators; a 304 renews it and is counted', async () => {
    const v1 = bytes(20_000, 5);
    o.put('/rev/index.json', v1);
    const m0 = metricSum(await metricsOf(p), 'regcache_revalidations_total', { result: 'not_modified' });
    assert.ok((await curl('-f', `${p.url}/files/rev/index.json`)).stdout.equals(v1));
    assert.ok((await wget(`${p.url}/files/rev/index.json`)).file?.equals(v1));
    assert.deepEqual(o.conditional('/rev/index.json'), { asked: 1, notModified: 1 }, 'the origin saw a conditional GET and answered 304');
    const seen = o.requests.filter((r) => r.path === '/rev/index.json').at(-1);
    assert.ok(seen?.headers['if-none-match'] !== undefined && seen.headers['if-modified-since'] !== undefined, 'ETag and Last-Modified sent back');
    const m1 = metricSum(await metricsOf(p), 'regcache_revalidations_total', { result: 'not_modified' });
    assert.equal(m1 - m0, 1, 'the 304 is counted');
    assert.equal((await curlHead(`${p.url}/files/rev/index.json`)).headers['cache-control'], 'no-cache', 'clients do not keep a file that may change');
    const v2 = bytes(21_000, 6);
    o.put('/rev/index.json', v2);
    assert.ok((await curl('-f', `${p.url}/files/rev/index.json`)).stdout.equals(v2), 'a changed file replaces the copy');
    assert.deepEqual(o.conditional('/rev/index.json'), { asked: 3, notModified: 2 });
    assert.equal(metricSum(await metricsOf(p), 'regcache_revalidations_total', { result: 'modified' }) >= 1, true);
  });

  void it('fresh_for: forever never asks again; a short one asks once it has passed', async () => {
    o.put('/fresh/a.txt', Buffer.from('v1\n'));
    o.put('/short/a.txt', Buffer.from('v1\n'));
    for (let i = 0; i < 3; i++) {
      await curl('-f', `${p.url}/files/fresh/a.txt`);
      await curl('-f', `${p.url}/files/short/a.txt`);
    }
    assert.equal(o.requests.filter((r) => r.path === '/fresh/a.txt').length, 1);
    const before = o.requests.filter((r) => r.path === '/short/a.txt').length;
    await pause(1100);
    o.put('/short/a.txt', Buffer.from('v2\n'));
    assert.equal((await curl('-f', `${p.url}/files/short/a.txt`)).stdout.toString(), 'v2\n');
    assert.equal(o.requests.filter((r) => r.path === '/short/a.txt').length, before + 1);
    assert.equal(o.conditional('/short/a.txt').asked >= 1, true);
  });

  void it('expire_after: an expired copy is fetched again; a later rule can keep it (never)', async () => {
    o.put('/exp/a.bin', bytes(1000, 7));
    o.put('/exp/keep/b.bin', bytes(1000, 8));
    await curl('-f', `${p.url}/files/exp/a.bin`);
    await curl('-f', `${p.url}/files/exp/keep/b.bin`);
    await pause(1100);
    assert.ok((await curl('-f', `${p.url}/files/exp/a.bin`)).stdout.equals(bytes(1000, 7)));
    assert.ok((await curl('-f', `${p.url}/files/exp/keep/b.bin`)).stdout.equals(bytes(1000, 8)));
    assert.equal(o.count('/exp/a.bin'), 2, 'expired after 1s: fetched again');
    assert.equal(o.count('/exp/keep/b.bin'), 1, 'the later rule set expire_after: never');
  });

  void it('rules: a later matching rule overrides an earlier one (imm/live/** revalidates, imm/** does not)', async () => {
    o.put('/imm/live/x.json', Buffer.from('{}'));
    o.put('/imm/y.json', Buffer.from('{}'));
    for (let i = 0; i < 2; i++) {
      await curl('-f', `${p.url}/files/imm/live/x.json`);
      await curl('-f', `${p.url}/files/imm/y.json`);
    }
    assert.equal(o.conditional('/imm/live/x.json').asked, 1);
    assert.equal(o.requests.filter((r) => r.path === '/imm/y.json').length, 1);
  });

  void it('not_found_ttl: an upstream 404 is remembered, never stored as a file', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await curlHead(`${p.url}/files/imm/missing.zip`)).status, 404);
    assert.equal(o.count('/imm/missing.zip'), 1);
    assert.equal(await stored('imm/missing.zip'), false);
  });

  void it('pass_headers forwards the named headers, never a credential', async () => {
    o.put('/plain/h.txt', Buffer.from('h'));
    await curl('-f', '-H', 'X-Custom: yes', '-H', 'Authorization: Bearer secret', '-H', 'X-Other: no', `${p.url}/files/plain/h.txt`);
    const seen = o.requests.filter((r) => r.path === '/plain/h.txt').at(-1);
    assert.equal(seen?.headers['x-custom'], 'yes');
    assert.equal(seen?.headers['x-other'], undefined);
    assert.equal(seen?.headers.authorization, undefined);
    assert.ok(p.logs.some((l) => String(l.msg).includes('pass_headers')), 'the refused header is reported at start');
  });
});
