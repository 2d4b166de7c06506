/**
 * The fs store's open-file cache: warm opens reuse a kept descriptor,
 * readers never lose theirs to an eviction, and what this or another
 * process deletes or replaces is seen (at once, or within the validity).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { OpenFiles } from '../../src/storage/fs/open-files.js';
import type { Store } from '../../src/core/store.js';
import { fsStoreFixtures, putObject } from '../support/store-objects.js';

const { freshRoot, storeOn, freshStore } = fsStoreFixtures('regcache-openfiles-');

async function readAll(body: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of body) out.push(Buffer.from(c as Buffer));
  return Buffer.concat(out);
}

async function get(s: Store, key: string): Promise<Buffer | undefined> {
  const o = await s.open(key);
  return o ? readAll(o.body) : undefined;
}

const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

/** Waits (bounded) until the descriptor count is at most `n`, then returns it. */
async function settle(n: number): Promise<number> {
  for (let i = 0; i < 100 && (await fds()) > n; i++) await new Promise((r) => setTimeout(r, 10));
  return fds();
}

void describe('fs store: open-file cache', () => {
  void it('warm opens reuse one kept descriptor per object, for whole and ranged bodies and stat', async () => {
    const s = await freshStore();
    const big = randomBytes(700_000);
    const small = randomBytes(1000);
    await putObject(s, 'k/big', big);
    await putObject(s, 'k/small', small);
    const baseline = await fds();
    for (let i = 0; i < 20; i++) {
      assert.ok((await get(s, 'k/big'))?.equals(big));
      assert.ok((await get(s, 'k/small'))?.equals(small));
      const ranged = await s.open('k/big', { start: 600_000, end: 600_099 });
      assert.ok(ranged && (await readAll(ranged.body)).equals(big.subarray(600_000, 600_100)));
      assert.equal((await s.stat('k/big'))?.size, big.length);
    }
    assert.equal(await settle(baseline + 2), baseline + 2, 'one descriptor per object stays open');
    await s.close();
    assert.equal(await settle(baseline), baseline, 'close() closes them');
  });

  void it('a delete evicts at once; bodies already reading keep their descriptor until they end', async () => {
    const s = await freshStore();
    const bytes = randomBytes(3 * 256 * 1024 + 11);
    await putObject(s, 'k/del', bytes);
    const baseline = await fds();
    const readers = await Promise.all(Array.from({ length: 4 }, () => s.open('k/del')));
    // Each reader took its first chunk; then the object is deleted under them.
    await Promise.all(readers.map((o) => new Promise((r) => o?.body.once('readable', r))));
    assert.equal(await s.delete('k/del'), true);
    assert.equal(await s.open('k/del'), undefined, 'gone for new requests');
    assert.equal(await s.stat('k/del'), undefined);
    const got = await Promise.all(readers.map((o) => readAll(o?.body as Readable)));
    for (const g of got) assert.ok(g.equals(bytes), 'readers finish with the bytes they started on');
    assert.equal(await settle(baseline), baseline, 'evicted descriptors closed after their last reader');
  });

  void it('a commit in this process replaces the kept descriptor at once', async () => {
    const s = await freshStore();
    const v1 = randomBytes(300_000);
    const v2 = randomBytes(300_001);
    await putObject(s, 'k/re', v1);
    assert.ok((await get(s, 'k/re'))?.equals(v1));
    await putObject(s, 'k/re', v2);
    assert.ok((await get(s, 'k/re'))?.equals(v2), 'the new version, not the kept old descriptor');
  });

  void it('what another process deletes or replaces is seen once the kept descriptor is older than its validity', async () => {
    const root = await freshRoot();
    let t = 1_000_000;
    const s = await storeOn(root, { openFileValidMs: 10_000, now: () => t });
    const other = await storeOn(root, { openFiles: 0 });
    const v1 = randomBytes(300_000);
    const v2 = randomBytes(300_002);
    await putObject(s, 'k/x', v1);
    await putObject(s, 'k/gone', v1);
    assert.ok((await get(s, 'k/x'))?.equals(v1));
    assert.ok((await get(s, 'k/gone'))?.equals(v1));
    await putObject(other, 'k/x', v2);
    assert.equal(await other.delete('k/gone'), true);
    t += 9_999;
    assert.ok((await get(s, 'k/x'))?.equals(v1), 'within the validity: the kept (whole, older) version');
    assert.ok((await get(s, 'k/gone'))?.equals(v1));
    t += 1;
    assert.ok((await get(s, 'k/x'))?.equals(v2), 'after it: the file is opened again');
    assert.equal(await get(s, 'k/gone'), undefined);
  });

  void it('drops expired descriptors while idle (sweep), so a deleted file is not held open', async () => {
    const root = await freshRoot();
    const path = join(root, 'f');
    await writeFile(path, 'x');
    let t = 1_000_000;
    const files = new OpenFiles({ max: 8, validMs: 10_000, now: () => t });
    const baseline = await fds();
    const lease = files.add('k', { fh: await open(path, 'r'), meta: { size: 1, sha256: '', contentType: 'x', storedAt: 0 } }, files.epoch);
    lease.release();
    files.sweep();
    assert.equal(files.size, 1, 'kept while valid');
    t += 10_000;
    files.sweep();
    assert.equal(files.size, 0, 'dropped once expired');
    assert.equal(await settle(baseline), baseline, 'and its descriptor closed, without another request');
  });

  void it('a file opened while its key was evicted (a commit replacing it) is used once, not kept', async () => {
    const root = await freshRoot();
    const path = join(root, 'f');
    await writeFile(path, 'x');
    const files = new OpenFiles({ max: 8, validMs: 10_000 });
    const baseline = await fds();
    const meta = { size: 1, sha256: '', contentType: 'x', storedAt: 0 };
    const before = files.epoch;
    const fh = await open(path, 'r'); // the open races with...
    files.evict('k'); // ...a commit of a new version of 'k'
    const lease = files.add('k', { fh, meta }, before);
    assert.equal(files.size, 0, 'not kept');
    assert.equal(files.acquire('k'), undefined);
    lease.release();
    assert.equal(await settle(baseline), baseline, 'closed once its reader let go');
    const kept = files.add('k', { fh: await open(path, 'r'), meta }, files.epoch);
    kept.release();
    assert.equal(files.size, 1, 'an open without an eviction in between is kept');
    await files.clear();
    assert.equal(await settle(baseline), baseline);
  });

  void it('keeps at most `openFiles` descriptors, least recently used out first; 0 keeps none', async () => {
    const bytes = randomBytes(300_000);
    const kept = await freshStore({ openFiles: 2 });
    for (let i = 0; i < 5; i++) await putObject(kept, `k/${i}`, bytes);
    let baseline = await fds();
    for (let i = 0; i < 5; i++) assert.ok((await get(kept, `k/${i}`))?.equals(bytes));
    assert.equal(await settle(baseline + 2), baseline + 2, 'two kept');
    await kept.close();
    const none = await freshStore({ openFiles: 0 });
    for (let i = 0; i < 5; i++) await putObject(none, `k/${i}`, bytes);
    baseline = await settle(baseline);
    for (let i = 0; i < 5; i++) assert.ok((await get(none, `k/${i}`))?.equals(bytes));
    assert.equal(await settle(baseline), baseline, 'none kept');
  });
});
