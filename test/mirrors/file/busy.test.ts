/**
 * `busy_policy` end to end: what a request gets while another one is
 * downloading or revalidating the same file. The origin holds that first
 * download mid-body until the test releases it, so "while" is a state the
 * test controls, not a timing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { bytes, curl, startFileCache } from './support.js';

let o: FileOrigin;
let p: RegcacheProcess;

/** A curl download running in the background; `streaming` resolves at its first body bytes (or its end). */
function background(url: string): Promise<{ code: number | null; body: Buffer }> & { streaming: Promise<void> } {
  const child = spawn('curl', ['-sS', '-f', '--noproxy', '*', url], { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const streaming = new Promise<void>((r) => child.stdout.once('data', () => r()).once('close', () => r()));
  const done = new Promise<{ code: number | null; body: Buffer }>((r) => child.once('close', (code) => r({ code, body: Buffer.concat(chunks) })));
  return Object.assign(done, { streaming });
}

void describe('file mode: busy_policy', { timeout: 120_000 }, () => {
  before(async () => {
    o = await startFileOrigin();
    p = await startFileCache({
      upstreams: [o.url],
      default_policy: 'revalidate',
      fresh_for: '0s',
      rules: [
        { match: 'stale/**', busy_policy: 'stale' },
        { match: 'bypass/**', busy_policy: 'bypass' },
      ],
    });
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('stale: while a changed file is being downloaded, other requests get the stored copy at once', { timeout: 30_000 }, async () => {
    const v1 = bytes(400_000, 1);
    const v2 = bytes(400_000, 2);
    o.put('/stale/f.bin', v1);
    assert.ok((await curl('-f', `${p.url}/files/stale/f.bin`)).stdout.equals(v1));
    o.put('/stale/f.bin', v2);
    o.fault('/stale/', { kind: 'hold', after: 100_000 });
    const first = background(`${p.url}/files/stale/f.bin`);
    await o.seen('/stale/f.bin', 2);
    const during = await curl('-f', `${p.url}/files/stale/f.bin`);
    assert.ok(during.stdout.equals(v1), 'the stored copy, complete, while the new one downloads');
    assert.equal(o.count('/stale/f.bin'), 2, 'no request of its own');
    o.fault('/stale/', undefined);
    assert.ok((await first).body.equals(v2), 'the revalidating request gets the new file');
    assert.ok((await curl('-f', `${p.url}/files/stale/f.bin`)).stdout.equals(v2));
  });

  void it('stale: with nothing stored yet, other requests join the one download', { timeout: 30_000 }, async () => {
    const body = bytes(400_000, 3);
    o.put('/stale/cold.bin', body);
    o.fault('/stale/', { kind: 'hold', after: 100_000 });
    const first = background(`${p.url}/files/stale/cold.bin`);
    await o.seen('/stale/cold.bin', 1);
    const second = background(`${p.url}/files/stale/cold.bin`);
    // Both stream the held download's first bytes before the origin sends the rest.
    await Promise.all([first.streaming, second.streaming]);
    o.fault('/stale/', undefined);
    for (const r of await Promise.all([first, second])) assert.ok(r.body.equals(body));
    assert.equal(o.count('/stale/cold.bin'), 1);
  });

  void it('bypass: while a file is being downloaded, another request streams its own upstream answer', { timeout: 30_000 }, async () => {
    const v1 = bytes(400_000, 4);
    const v2 = bytes(400_000, 5);
    o.put('/bypass/f.bin', v1);
    assert.ok((await curl('-f', `${p.url}/files/bypass/f.bin`)).stdout.equals(v1));
    o.put('/bypass/f.bin', v2);
    o.fault('/bypass/', { kind: 'hold', after: 100_000 });
    const first = background(`${p.url}/files/bypass/f.bin`);
    await o.seen('/bypass/f.bin', 2);
    const second = background(`${p.url}/files/bypass/f.bin`);
    await o.seen('/bypass/f.bin', 3);
    assert.equal(o.count('/bypass/f.bin'), 3, 'the second request asked upstream itself');
    o.fault('/bypass/', undefined);
    const [a, b] = await Promise.all([first, second]);
    assert.ok(a.body.equals(v2));
    assert.ok(b.body.equals(v2));
  });

  void it('bypass: with nothing stored yet, a second cold request does not wait for the first', { timeout: 30_000 }, async () => {
    const body = bytes(400_000, 6);
    o.put('/bypass/cold.bin', body);
    o.fault('/bypass/', { kind: 'hold', after: 100_000 });
    const first = background(`${p.url}/files/bypass/cold.bin`);
    await o.seen('/bypass/cold.bin', 1);
    const second = background(`${p.url}/files/bypass/cold.bin`);
    await o.seen('/bypass/cold.bin', 2);
    o.fault('/bypass/', undefined);
    for (const r of await Promise.all([first, second])) assert.ok(r.body.equals(body));
    assert.equal(o.count('/bypass/cold.bin'), 2);
  });
});
