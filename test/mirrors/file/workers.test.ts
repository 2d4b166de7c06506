/**
 * The `file` mode under `server.workers`: the relay between worker
 * processes is invisible to it. Cold clients spread over the workers cause
 * one upstream GET; a worker that verifies bytes another worker downloaded
 * (its route's verify without its fetch) stores the same whole file, and a
 * download that fails its announced digest is stored by no worker.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { bytes, curl, objectFile, startFileCache, storedFiles } from './support.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let o: FileOrigin;
let p: RegcacheProcess;

/** Starts `n` curl downloads (new connections, so spread over the workers); resolves when each streams or ends. */
function clients(url: string, n: number): { streaming: Promise<void>; done: Promise<Array<{ code: number | null; body: Buffer }>> } {
  const started: Array<Promise<void>> = [];
  const runs = Array.from({ length: n }, () => {
    const child = spawn('curl', ['-sS', '-f', '--noproxy', '*', url], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    started.push(new Promise((r) => child.stdout.once('data', () => r()).once('close', () => r())));
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    return new Promise<{ code: number | null; body: Buffer }>((r) => child.once('close', (code) => r({ code, body: Buffer.concat(chunks) })));
  });
  return { streaming: Promise.all(started).then(() => undefined), done: Promise.all(runs) };
}

void describe('file mode under server.workers', { timeout: 120_000 }, () => {
  before(async () => {
    o = await startFileOrigin();
    p = await startFileCache({ upstreams: [o.url], default_policy: 'immutable' }, { server: { workers: 2 } });
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('cold clients on both workers: one upstream GET, the same verified bytes everywhere', async () => {
    const body = bytes(3_000_000, 1);
    o.put('/w/tool.tar.gz', body, { digest: 'repr-digest-sha512' });
    o.fault('/w/', { kind: 'hold', after: 1_000_000 });
    const run = clients(`${p.url}/files/w/tool.tar.gz`, 12);
    await run.streaming;
    o.fault('/w/', undefined);
    for (const r of await run.done) {
      assert.equal(r.code, 0);
      assert.equal(sha(r.body), sha(body));
    }
    assert.equal(o.count('/w/tool.tar.gz'), 1);
    for (let i = 0; i < 4; i++) assert.equal(sha((await curl('-f', `${p.url}/files/w/tool.tar.gz`)).stdout), sha(body));
    assert.equal(o.count('/w/tool.tar.gz'), 1);
  });

  void it('bytes failing the announced digest are stored by no worker', async () => {
    const body = bytes(1_500_000, 2);
    o.put('/w/bad.bin', body, { digest: 'repr-digest' });
    o.fault('/w/bad.bin', { kind: 'corrupt' });
    const run = clients(`${p.url}/files/w/bad.bin`, 6);
    for (const r of await run.done) assert.notEqual(sha(r.body), sha(body));
    assert.equal((await storedFiles(p.dataDir)).includes(objectFile('w/bad.bin')), false);
    o.fault('/w/bad.bin', undefined);
    assert.equal(sha((await curl('-f', `${p.url}/files/w/bad.bin`)).stdout), sha(body));
  });
});
