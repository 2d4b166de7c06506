import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { BufferPool, chunkPool, SharedBlock } from '../../src/core/buffer-pool.js';
import { FillWindow, WINDOW_BLOCK } from '../../src/core/fill-window.js';

/** Reads [pos, limit) from the window, block by block; undefined if any part is not in memory. */
function readAll(w: FillWindow, pos: number, limit: number): Buffer | undefined {
  const parts: Buffer[] = [];
  while (pos < limit) {
    const v = w.view(pos, limit);
    if (!v) return undefined;
    parts.push(Buffer.from(v.bytes));
    pos += v.bytes.length;
  }
  return Buffer.concat(parts);
}

void describe('fill window', () => {
  void it('hands back full blocks in order and keeps the bytes readable as views', () => {
    const w = new FillWindow(1000, 3);
    const data = randomBytes(2500);
    const full = [...w.push(data.subarray(0, 700)), ...w.push(data.subarray(700, 2500))];
    assert.equal(full.length, 2);
    assert.ok(Buffer.concat(full).equals(data.subarray(0, 2000)));
    assert.equal(w.received, 2500);
    assert.ok(w.tail()?.equals(data.subarray(2000)));
    assert.ok(readAll(w, 0, 2500)?.equals(data));
    assert.ok(readAll(w, 1234, 2222)?.equals(data.subarray(1234, 2222)));
    assert.equal(w.view(2500, 3000), undefined, 'nothing past what was received');
  });

  void it('a view never changes when later bytes arrive in the same block', () => {
    const w = new FillWindow(1000, 3);
    w.push(Buffer.alloc(400, 1));
    const v = w.view(0, 400)?.bytes;
    const copy = Buffer.from(v ?? Buffer.alloc(0));
    w.push(Buffer.alloc(600, 2));
    assert.ok(v?.equals(copy));
    assert.equal(v?.length, 400);
  });

  void it('drops only persisted blocks beyond its size; older positions then read from the file', () => {
    const w = new FillWindow(100, 2);
    const data = randomBytes(550);
    w.push(data);
    assert.ok(readAll(w, 0, 550)?.equals(data), 'nothing persisted: everything stays');
    w.persistedUpTo(300);
    // 6 blocks, the first 3 persisted and dropped; unpersisted blocks stay whatever the size.
    assert.equal(w.view(0, 550), undefined);
    assert.equal(w.view(299, 550), undefined);
    assert.ok(readAll(w, 300, 550)?.equals(data.subarray(300)));
    w.persistedUpTo(550);
    assert.equal(w.view(300, 550), undefined);
    assert.ok(readAll(w, 400, 550)?.equals(data.subarray(400)));
    w.clear();
    assert.equal(w.view(500, 550), undefined);
  });

  void it('a block goes back to the pool only when the window and every view let go of it', () => {
    const w = new FillWindow(WINDOW_BLOCK, 1);
    const data = randomBytes(3 * WINDOW_BLOCK);
    w.push(data);
    const held = w.view(10, 20);
    assert.ok(held);
    held.block.retain(); // a follower handed this view on
    const idle = chunkPool.idle;
    w.persistedUpTo(3 * WINDOW_BLOCK); // the first two blocks leave the window
    assert.equal(chunkPool.idle, idle + 1, 'the unviewed block is reused at once');
    assert.ok(held.bytes.equals(data.subarray(10, 20)), 'the viewed block is untouched');
    held.block.release(); // the socket write completed
    assert.equal(chunkPool.idle, idle + 2);
    w.clear();
    assert.equal(chunkPool.idle, idle + 3);
  });
});

void describe('buffer pool and shared blocks', () => {
  void it('reuses given buffers, ignores foreign sizes and overflow, and trims when idle (the rule: buffer-pool.test.ts)', () => {
    const pool = new BufferPool(16, 4, 1, 60_000);
    const a = pool.take();
    pool.give(a);
    assert.equal(pool.take(), a, 'a given buffer is taken again');
    pool.give(Buffer.alloc(8));
    pool.give(Buffer.alloc(32).subarray(0, 16));
    assert.equal(pool.idle, 0, 'other sizes and views are left to the GC');
    for (let i = 0; i < 6; i++) pool.give(Buffer.alloc(16));
    assert.equal(pool.idle, 4, 'bounded');
    pool.trim();
    pool.trim();
    assert.equal(pool.idle, 1, 'idle through whole steps: trimmed to keepIdle');
  });

  void it('a shared block refuses to be released more often than retained', () => {
    const pool = new BufferPool(16, 4, 1, 60_000);
    const b = new SharedBlock(pool.take(), pool);
    b.retain();
    b.release();
    assert.equal(pool.idle, 0);
    b.release();
    assert.equal(pool.idle, 1);
    assert.throws(() => b.release(), /more often/);
    assert.throws(() => b.retain(), /after its last release/);
    assert.equal(pool.idle, 1, 'given back once');
  });
});
