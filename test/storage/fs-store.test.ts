import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { chunkPool } from '../../src/core/buffer-pool.js';
import { openBodyCount, READ_AHEAD_MAX_OPEN } from '../../src/storage/fs/file-body.js';
import { createFsStore } from '../../src/storage/fs/fs-store.js';
import { lendsChunks, type ChunkLender } from '../../src/core/store.js';
import { fsStoreFixtures, putObject } from '../support/store-objects.js';
import { storeConformance } from './store-conformance.js';

const { freshRoot, storeOn, freshStore } = fsStoreFixtures('regcache-fs-');

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

  void it('a body stream lets go of its descriptor once: read to the end, destroyed early, or ranged; the store keeps one and closes it at close()', async () => {
    const s = await freshStore();
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await putObject(s, 'fd/one', bytes);
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
    // The store keeps one descriptor for the key (its open-file cache); closing the store lets it go.
    assert.ok((await fds()) <= baseline + 1, 'at most the one kept descriptor is open');
    await s.close();
    // Give the handle closes a turn to finish, then nothing may be left open.
    for (let i = 0; i < 50 && (await fds()) > baseline; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await fds(), baseline, 'no descriptor left open');
  });

  void it('a small object is read whole with its metadata (one read), whole or ranged, and leaves no descriptor behind', async () => {
    const s = await freshStore();
    const bytes = randomBytes(100_000);
    await putObject(s, 'small/one', bytes);
    const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
    const baseline = await fds();
    const drain = async (body: Readable): Promise<Buffer> => {
      const out: Buffer[] = [];
      for await (const c of body) out.push(Buffer.from(c as Buffer));
      return Buffer.concat(out);
    };
    for (let round = 0; round < 10; round++) {
      const full = await s.open('small/one');
      assert.ok(full && lendsChunks(full.body));
      assert.equal(full.meta.size, bytes.length);
      assert.ok((await drain(full.body)).equals(bytes), 'whole body');
      const ranged = await s.open('small/one', { start: 99_000, end: 99_999 });
      assert.ok(ranged);
      assert.ok((await drain(ranged.body)).equals(bytes.subarray(99_000)), 'range');
      const unread = await s.open('small/one');
      assert.ok(unread);
      unread.body.destroy();
      assert.equal((await s.stat('small/one'))?.size, bytes.length);
      assert.ok((await s.read('small/one'))?.body.equals(bytes), 'read');
    }
    await s.close();
    for (let i = 0; i < 50 && (await fds()) > baseline; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await fds(), baseline, 'no descriptor left open');
  });

  void it('metadata larger than the tail read is still found, for small and large objects', async () => {
    const s = await freshStore();
    const attrs = { big: 'x'.repeat(10_000) };
    for (const [key, size] of [['meta/small', 1000], ['meta/large', 600_000]] as const) {
      const bytes = randomBytes(size);
      await putObject(s, key, bytes, { attrs });
      assert.equal((await s.stat(key))?.attrs?.big, attrs.big, `${key} stat`);
      const o = await s.open(key);
      assert.ok(o);
      const out: Buffer[] = [];
      for await (const c of o.body) out.push(Buffer.from(c as Buffer));
      assert.ok(Buffer.concat(out).equals(bytes), `${key} body`);
    }
  });

  void it('body chunks handed back are reused by later reads, and only exact, once-lent chunks are taken back', async () => {
    const s = await freshStore();
    const a = randomBytes(2 * 1024 * 1024 + 5);
    const b = randomBytes(1024 * 1024 + 3);
    for (const [key, bytes] of [['lend/a', a], ['lend/b', b]] as const) {
      await putObject(s, key, bytes);
    }
    const seen = new Set<ArrayBuffer>();
    let reused = 0;
    // Two bodies read side by side, each chunk copied out and then handed back:
    // the pool recycles memory across streams and no body sees another's bytes.
    for (let round = 0; round < 5; round++) {
      const oa = await s.open('lend/a');
      const ob = await s.open('lend/b');
      assert.ok(oa && ob && lendsChunks(oa.body) && lendsChunks(ob.body));
      const drain = async (body: Readable & ChunkLender): Promise<Buffer> => {
        const out: Buffer[] = [];
        for await (const c of body) {
          const chunk = c as Buffer;
          if (seen.has(chunk.buffer as ArrayBuffer)) reused++;
          seen.add(chunk.buffer as ArrayBuffer);
          out.push(Buffer.from(chunk));
          body.releaseChunk(chunk);
          body.releaseChunk(chunk); // a second hand-back is ignored
          body.releaseChunk(Buffer.from(chunk)); // so is a chunk it never lent
        }
        return Buffer.concat(out);
      };
      const [ga, gb] = await Promise.all([drain(oa.body), drain(ob.body)]);
      assert.ok(ga.equals(a), `body a intact in round ${round}`);
      assert.ok(gb.equals(b), `body b intact in round ${round}`);
    }
    assert.ok(reused > 0, 'later reads reuse handed-back buffers');
    assert.ok(chunkPool.idle <= 128, 'the pool stays bounded');
    const oa = await s.open('lend/a');
    assert.ok(oa && lendsChunks(oa.body));
    const closed = new Promise((resolve) => oa.body.once('close', resolve));
    const first = (await oa.body[Symbol.asyncIterator]().next()).value as Buffer;
    oa.body.destroy();
    await closed;
    const before = chunkPool.idle;
    oa.body.releaseChunk(first);
    oa.body.releaseChunk(first);
    assert.equal(chunkPool.idle, before + 1, 'handed back once, counted once');
  });

  void it('a body whose consumer never hands chunks back does not keep them alive', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const s = await freshStore();
    const bytes = randomBytes(4 * 256 * 1024);
    await putObject(s, 'nolend/one', bytes);
    const o = await s.open('nolend/one');
    assert.ok(o);
    const refs: Array<WeakRef<Buffer>> = [];
    for await (const c of o.body) refs.push(new WeakRef(c as Buffer));
    assert.equal(refs.length, 4);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    assert.ok(o.body, 'the stream itself is still referenced');
    // The last chunk may still be referenced by the iterator's bookkeeping; the others must be gone.
    assert.deepEqual(refs.slice(0, 3).map((r) => r.deref() === undefined), [true, true, true], 'chunks nobody holds are collected');
  });

  void it('idle read buffers are trimmed once they stayed idle for a whole step', async () => {
    const s = await freshStore();
    const bytes = randomBytes(8 * 256 * 1024);
    await putObject(s, 'trim/one', bytes);
    // Hold every chunk of three bodies, then hand them all back: the pool grows past 8.
    const held: Array<[Readable & ChunkLender, Buffer]> = [];
    for (let i = 0; i < 3; i++) {
      const o = await s.open('trim/one');
      assert.ok(o && lendsChunks(o.body));
      for await (const c of o.body) held.push([o.body, c as Buffer]);
    }
    for (const [body, chunk] of held) body.releaseChunk(chunk);
    const grown = chunkPool.idle;
    assert.ok(grown > 8, `pool grew to ${grown}`);
    chunkPool.trim(); // the step they came back in (see buffer-pool.test.ts for the exact rule)
    chunkPool.trim(); // a whole step idle: trimmed
    assert.equal(chunkPool.idle, 8);
  });

  void it('bodies opened while many are open do not read ahead, and still deliver every byte', async () => {
    const s = await freshStore();
    const bytes = randomBytes(3 * 256 * 1024 + 5);
    await putObject(s, 'ahead/one', bytes);
    const before = openBodyCount();
    const early: Readable[] = [];
    while (openBodyCount() < READ_AHEAD_MAX_OPEN) {
      const o = await s.open('ahead/one');
      assert.ok(o);
      early.push(o.body);
    }
    const late = await s.open('ahead/one');
    assert.ok(late && lendsChunks(late.body));
    assert.equal(openBodyCount(), READ_AHEAD_MAX_OPEN + 1);
    assert.ok(early.every((b) => b.readableHighWaterMark > 0), 'the first bodies read ahead');
    assert.equal(late.body.readableHighWaterMark, 0, 'a body opened past the limit reads only on demand');
    const got: Buffer[] = [];
    for await (const c of late.body) {
      got.push(Buffer.from(c as Buffer));
      late.body.releaseChunk(c as Buffer);
    }
    assert.ok(Buffer.concat(got).equals(bytes), 'every byte, in order');
    // One body ran to its end, the others are dropped unread: each leaves the count once.
    for (const b of early) b.destroy();
    await new Promise((r) => setImmediate(r));
    assert.equal(openBodyCount(), before);
    const again = await s.open('ahead/one');
    assert.ok(again);
    assert.ok(again.body.readableHighWaterMark > 0, 'reads ahead again once the others closed');
    again.body.destroy();
  });

  void it('a body whose file shrinks under it fails instead of ending short', async () => {
    const root = await freshRoot();
    const s = await storeOn(root);
    const bytes = randomBytes(1024 * 1024);
    await putObject(s, 'shrink/one', bytes);
    const opened = await s.open('shrink/one');
    assert.ok(opened);
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('~obj'));
    assert.equal(files.length, 1);
    await truncate(join(root, files[0] ?? ''), 1000);
    await assert.rejects(async () => {
      for await (const c of opened.body) void c;
    }, /ended \d+ bytes early/);
  });

  void it('answers a key below a plain file as missing (ENOTDIR goes the async way, not the quick absence check)', async () => {
    const root = await freshRoot();
    const s = await storeOn(root);
    await mkdir(join(root, 'objects', 'k'), { recursive: true });
    await writeFile(join(root, 'objects', 'k', 'plain'), 'a file where a directory would be');
    assert.equal(await s.stat('k/plain/x'), undefined);
    assert.equal(await s.read('k/plain/x'), undefined);
  });

  void it('treats a truncated object file as missing', async () => {
    const root = await freshRoot();
    const s = await storeOn(root);
    await mkdir(join(root, 'objects', 'k'), { recursive: true });
    await writeFile(join(root, 'objects', 'k', 'broken~obj'), 'not a framed object');
    assert.equal(await s.stat('k/broken'), undefined);
    assert.equal(await s.read('k/broken'), undefined);
  });

  void it('reports an unwritable root as ERR_STORAGE_UNAVAILABLE', async () => {
    const root = await freshRoot();
    const s = await storeOn(root);
    await rm(join(root, 'tmp'), { recursive: true });
    await writeFile(join(root, 'tmp'), 'a file where the tmp dir should be');
    await assert.rejects(() => s.checkWritable(), (e: Error & { code?: string }) => e.code === 'ERR_STORAGE_UNAVAILABLE');
    await assert.rejects(() => s.create('a/b'), (e: Error & { code?: string }) => e.code === 'ERR_STORAGE_UNAVAILABLE');
  });
});
