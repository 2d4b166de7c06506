import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
