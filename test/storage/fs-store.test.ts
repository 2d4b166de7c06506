import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createFsStore } from '../../src/storage/fs/fs-store.js';
import { storeConformance } from './store-conformance.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), 'regcache-fs-'));
  roots.push(r);
  return r;
}

storeConformance('fs', async () => {
  const s = createFsStore({ root: await freshRoot() });
  await s.init();
  return s;
});

void describe('fs store specifics', () => {
  void it('removes temp files of dead writers at start, keeps those of live ones', async () => {
    const root = await freshRoot();
    await mkdir(join(root, 'tmp'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(join(root, 'tmp', `${dead}-zz-0001`), 'partial');
    await writeFile(join(root, 'tmp', `${process.ppid}-zz-0002`), 'live writer');
    const s = createFsStore({ root });
    await s.init();
    const left = await readdir(join(root, 'tmp'));
    assert.deepEqual(left, [`${process.ppid}-zz-0002`]);
  });

  void it('a body stream closes its descriptor exactly once: read to the end, destroyed early, or ranged', async () => {
    const s = createFsStore({ root: await freshRoot() });
    await s.init();
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const p = await s.create('fd/one');
    await p.append(bytes);
    await p.commit({ sha256: createHash('sha256').update(bytes).digest('hex'), contentType: 'application/zip', storedAt: Date.now() });
    await p.dispose();
    const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
    const baseline = await fds();
    const closed = (r: Readable): Promise<void> => new Promise((resolve) => r.once('close', () => resolve()));
    for (let round = 0; round < 20; round++) {
      const full = await s.open('fd/one');
      assert.ok(full);
      const chunks: Buffer[] = [];
      const done = closed(full.body);
      for await (const c of full.body) chunks.push(c as Buffer);
      await done;
      assert.ok(Buffer.concat(chunks).equals(bytes), 'whole body');
      const early = await s.open('fd/one');
      assert.ok(early);
      const earlyClosed = closed(early.body);
      early.body.once('data', () => early.body.destroy());
      await earlyClosed;
      const ranged = await s.open('fd/one', { start: 100, end: 199 });
      assert.ok(ranged);
      const part: Buffer[] = [];
      for await (const c of ranged.body) part.push(c as Buffer);
      assert.ok(Buffer.concat(part).equals(bytes.subarray(100, 200)));
    }
    // Give the handle closes a turn to finish, then nothing may be left open.
    for (let i = 0; i < 50 && (await fds()) > baseline; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await fds(), baseline, 'no descriptor left open');
  });

  void it('treats a truncated object file as missing', async () => {
    const root = await freshRoot();
    const s = createFsStore({ root });
    await s.init();
    await mkdir(join(root, 'objects', 'k'), { recursive: true });
    await writeFile(join(root, 'objects', 'k', 'broken~obj'), 'not a framed object');
    assert.equal(await s.stat('k/broken'), undefined);
    assert.equal(await s.read('k/broken'), undefined);
  });

  void it('reports an unwritable root as ERR_STORAGE_UNAVAILABLE', async () => {
    const root = await freshRoot();
    const s = createFsStore({ root });
    await s.init();
    await rm(join(root, 'tmp'), { recursive: true });
    await writeFile(join(root, 'tmp'), 'a file where the tmp dir should be');
    await assert.rejects(() => s.checkWritable(), (e: Error & { code?: string }) => e.code === 'ERR_STORAGE_UNAVAILABLE');
    await assert.rejects(() => s.create('a/b'), (e: Error & { code?: string }) => e.code === 'ERR_STORAGE_UNAVAILABLE');
  });
});
