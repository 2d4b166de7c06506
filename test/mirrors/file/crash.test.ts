/**
 * Crash safety of the `file` mode, as for providers: regcache (the built
 * CLI) is SIGKILLed while a client streams a cold download (immutable) and
 * while a changed file is being revalidated (the stored copy being
 * replaced), then restarted on the same storage. No partial object may be
 * stored or served: the interrupted file is absent (or the old copy is
 * whole), every object file hashes to its record, the killed writer's
 * temp file is gone, and the next request gets the right bytes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { auditStore, tempsNotOf } from '../../reliability/support.js';
import { bytes, curl, startFileCache, storedFiles } from './support.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let o: FileOrigin;
let root: string;
let p: RegcacheProcess | undefined;

const start = (): Promise<RegcacheProcess> =>
  startFileCache({ upstreams: [o.url], default_policy: 'immutable', rules: [{ match: 'live/**', policy: 'revalidate', fresh_for: '0s', busy_policy: 'stale' }] }, { storage: { path: join(root, 'data') } });

/** Starts a curl download and resolves once its first body bytes arrived; `done` is its end. */
function streaming(url: string): { first: Promise<void>; done: Promise<{ code: number | null; body: Buffer }> } {
  const child = spawn('curl', ['-sS', '--noproxy', '*', url], { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  return {
    first: new Promise((r) => child.stdout.once('data', () => r()).once('close', () => r())),
    done: new Promise((r) => child.once('close', (code) => r({ code, body: Buffer.concat(chunks) }))),
  };
}

/** Kills the process while `path` is mid-download, restarts on the same storage, and checks the store. */
async function killMidDownload(path: string, expected: Buffer): Promise<{ cut: Buffer }> {
  const first = p;
  assert.ok(first);
  o.fault(path, { kind: 'hold', after: 2_000_000 });
  const client = streaming(`${first.url}/files${path}`);
  await client.first;
  const pid = first.child.pid;
  await first.stop('SIGKILL');
  o.fault(path, undefined);
  const cut = (await client.done).body;
  assert.ok(cut.length < expected.length && cut.equals(expected.subarray(0, cut.length)), 'the client got a true prefix, then a broken transfer');
  p = await start();
  const cacheRoot = join(root, 'data', 'cache');
  assert.deepEqual((await tempsNotOf(cacheRoot, p.child.pid)).filter((n) => Number(n.split('-')[0]) === pid), [], 'the killed writer left no temp file');
  const audit = await auditStore(cacheRoot);
  assert.deepEqual(audit.corrupt, [], 'every stored object is whole');
  return { cut };
}

void describe('file mode: crash safety', { timeout: 120_000 }, () => {
  before(async () => {
    o = await startFileOrigin();
    root = await mkdtemp(join(tmpdir(), 'regcache-file-crash-'));
    p = await start();
  });
  after(async () => {
    await p?.stop('SIGKILL');
    await o?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  void it('SIGKILL during a cold download: nothing stored; after restart the file downloads whole', async () => {
    const big = bytes(6_000_000, 1);
    o.put('/cold/big.iso', big);
    await killMidDownload('/cold/big.iso', big);
    assert.deepEqual((await storedFiles(join(root, 'data'))).filter((f) => f.includes('files/')), [], 'no object for the interrupted file');
    const again = await curl('-f', `${p?.url}/files/cold/big.iso`);
    assert.equal(sha(again.stdout), sha(big));
    assert.equal(o.count('/cold/big.iso'), 2);
  });

  void it('SIGKILL while a changed file replaces its stored copy: the old copy stays whole until the new one is complete', async () => {
    const v1 = bytes(5_000_000, 2);
    const v2 = bytes(5_000_000, 3);
    o.put('/live/tool.bin', v1);
    assert.equal(sha((await curl('-f', `${p?.url}/files/live/tool.bin`)).stdout), sha(v1));
    o.put('/live/tool.bin', v2);
    await killMidDownload('/live/tool.bin', v2);
    await o.down();
    try {
      const offline = await curl('-f', `${p?.url}/files/live/tool.bin`);
      assert.equal(sha(offline.stdout), sha(v1), 'upstream down after the restart: the old copy, whole');
    } finally {
      await o.up();
    }
    // A failed revalidation is retried about a second later (the stale copy is served meanwhile):
    // every answer is one whole version, and the new one arrives.
    for (let i = 0; ; i++) {
      const got = sha((await curl('-f', `${p?.url}/files/live/tool.bin`)).stdout);
      assert.ok(got === sha(v1) || got === sha(v2), 'a whole version');
      if (got === sha(v2)) break;
      assert.ok(i < 100, 'the new version arrives once upstream is back');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
