/**
 * The npm mode under `server.workers`: a worker that receives a tarball's
 * bytes from another worker's download (its route's verify without its
 * fetch) still checks them against the packument, which it loads itself.
 * Cold clients spread over the workers cause one upstream download; a
 * tampered tarball is stored by no worker; `npm install` works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startNpmOrigin, type NpmOrigin } from '../../fakes/npm-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { installed, makeProject, npm, startNpmCache, storedTarballs } from './support.js';

/** `n` curl downloads on new connections (spread over the workers); resolves when each streams or ends. */
function clients(url: string, n: number): { streaming: Promise<void>; done: Promise<Buffer[]> } {
  const started: Array<Promise<void>> = [];
  const runs = Array.from({ length: n }, () => {
    const child = spawn('curl', ['-sS', '--noproxy', '*', url], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    started.push(new Promise((r) => child.stdout.once('data', () => r()).once('close', () => r())));
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    return new Promise<Buffer>((r) => child.once('close', () => r(Buffer.concat(chunks))));
  });
  return { streaming: Promise.all(started).then(() => undefined), done: Promise.all(runs) };
}

void describe('npm mode under server.workers', { timeout: 180_000 }, () => {
  let o: NpmOrigin;
  let p: RegcacheProcess;
  before(async () => {
    o = await startNpmOrigin();
    p = await startNpmCache(o, {}, { server: { workers: 2 } });
  });
  after(async () => {
    await p?.stop();
    await o?.close();
  });

  void it('cold clients on both workers: one upstream download, the verified bytes everywhere', async () => {
    const v = o.publish('wide', { version: '1.0.0', dataBytes: 2_000_000 });
    o.fault(v.path, { kind: 'hold', after: 500_000 });
    const run = clients(`${p.url}/npm${v.path}`, 10);
    await run.streaming;
    o.fault(v.path, undefined);
    for (const body of await run.done) assert.ok(body.equals(v.tarball));
    assert.equal(o.count(v.path), 1);
  });

  void it('a tampered tarball is stored by no worker', async () => {
    const v = o.publish('wide-bad', { version: '1.0.0', dataBytes: 1_000_000 });
    o.fault(v.path, { kind: 'corrupt' });
    const run = clients(`${p.url}/npm${v.path}`, 6);
    for (const body of await run.done) assert.ok(body.length < v.tarball.length, 'no client gets a whole tarball: cut, or an error');
    assert.deepEqual((await storedTarballs(p.dataDir)).filter((f) => f.includes('wide-bad')), []);
    o.fault(v.path, undefined);
    const project = await makeProject({ 'wide-bad': '1.0.0', 'chain-a': '^1.0.0' });
    const r = await npm(project, `${p.url}/npm/`, ['install']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await installed(project, 'wide-bad')).version, '1.0.0');
  });
});
