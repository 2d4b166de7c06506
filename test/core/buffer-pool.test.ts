/**
 * The buffer pool keeps what is being used and drops, step by step, the
 * buffers that stayed idle through a whole trim step (down to `keepIdle`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool } from '../../src/core/buffer-pool.js';

/** A pool whose timer never fires during the test: steps are driven by hand. */
const pool = (): BufferPool => new BufferPool(1024, 64, 2, 3_600_000);

void describe('BufferPool', () => {
  void it('reuses a buffer handed back, and ignores buffers of another size or a slice', () => {
    const p = pool();
    const a = p.take();
    assert.equal(a.length, 1024);
    p.give(a);
    assert.equal(p.idle, 1);
    assert.equal(p.take(), a);
    p.give(Buffer.alloc(512));
    p.give(Buffer.alloc(2048).subarray(0, 1024));
    assert.equal(p.idle, 0);
    p.trim();
  });

  void it('after a burst, keeps only the buffers still in use per step plus keepIdle', () => {
    const p = pool();
    const burst = Array.from({ length: 20 }, () => p.take());
    for (const b of burst) p.give(b);
    assert.equal(p.idle, 20);
    p.trim(); // the step in which they came back: they were not idle through it
    assert.equal(p.idle, 19);
    // Each step three buffers are taken and handed back.
    const step = (): void => {
      const used = [p.take(), p.take(), p.take()];
      for (const b of used) p.give(b);
      p.trim();
    };
    step();
    assert.equal(p.idle, 5, 'the 15 that stayed idle are dropped; 3 in use + keepIdle 2 stay');
    step();
    assert.equal(p.idle, 5, 'steady use keeps its buffers');
    p.trim();
    assert.equal(p.idle, 2, 'a whole step without use: down to keepIdle');
    p.trim();
    assert.equal(p.idle, 2, 'never below keepIdle');
  });

  void it('never holds more than max idle buffers', () => {
    const p = pool();
    const many = Array.from({ length: 100 }, () => p.take());
    for (const b of many) p.give(b);
    assert.equal(p.idle, 64);
    p.trim();
    p.trim();
    assert.equal(p.idle, 2);
  });
});
