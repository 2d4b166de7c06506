/**
 * The buffer pool's trim rule: it keeps what is being used and drops, step
 * by step, the buffers that stayed idle through a whole trim step (down to
 * `keepIdle`). Reuse, foreign sizes and the bound: fill-window.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool } from '../../src/core/buffer-pool.js';

/** A pool whose timer never fires during the test: steps are driven by hand. */
const pool = (): BufferPool => new BufferPool(1024, 64, 2, 3_600_000);

void describe('BufferPool', () => {
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
    assert.equal(p.idle, 5, 'the 14 that stayed idle through the step are dropped; 3 in use + keepIdle 2 stay');
    step();
    assert.equal(p.idle, 5, 'steady use keeps its buffers');
    p.trim();
    assert.equal(p.idle, 2, 'a whole step without use: down to keepIdle');
    p.trim();
    assert.equal(p.idle, 2, 'never below keepIdle');
  });
});
