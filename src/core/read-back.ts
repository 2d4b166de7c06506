/**
 * Blocks of a pending object read back for the followers of a fill that
 * fell behind its in-memory window: each block is read once for every
 * follower that needs it (with many clients they move together), and at
 * most READ_BACK_BLOCKS are kept, most recently used last.
 *
 * Invariant: the set holds one reference to each block and a read in
 * flight another, so a pooled buffer is never reused under a read.
 */
import { chunkPool, SharedBlock } from './buffer-pool.js';
import { WINDOW_BLOCK } from './fill-window.js';
import type { PendingObject } from './store.js';

/** Blocks kept for followers behind the window (16 MiB per fill). */
const READ_BACK_BLOCKS = 64;

/** A block read back from the pending object, and the read filling it (resolves to its length). */
export interface ReadBack {
  block: SharedBlock;
  read: Promise<number>;
}

/** The read-back blocks of one fill. */
export class ReadBackBlocks {
  private readonly blocks = new Map<number, ReadBack>();

  /** `final()`: whether the download is complete (its short last block may then stay shared). */
  constructor(private readonly final: () => boolean) {}

  /** Block `index` of `pending`, read now or shared with an earlier read. */
  get(pending: PendingObject, index: number): ReadBack {
    const hit = this.blocks.get(index);
    if (hit) {
      this.blocks.delete(index);
      this.blocks.set(index, hit);
      return hit;
    }
    const block = new SharedBlock(chunkPool.take());
    block.retain();
    const read = pending.readAt(index * WINDOW_BLOCK, WINDOW_BLOCK, block.buf).then((u) => {
      // A backend that ignored `into` returned its own buffer: the bytes go where followers look.
      if (u.buffer !== block.buf.buffer || u.byteOffset !== block.buf.byteOffset) block.buf.set(u);
      return u.length;
    });
    const entry: ReadBack = { block, read };
    this.blocks.set(index, entry);
    read.then(
      (length) => {
        block.release();
        // Only whole blocks (or the last one of a finished download) stay shared.
        if (length < WINDOW_BLOCK && !this.final()) this.drop(index, entry);
      },
      () => {
        block.release();
        this.drop(index, entry);
      },
    );
    while (this.blocks.size > READ_BACK_BLOCKS) {
      const [oldest, old] = this.blocks.entries().next().value ?? [];
      if (oldest === undefined || old === undefined) break;
      this.drop(oldest, old);
    }
    return entry;
  }

  /** Drops every block (blocks still viewed stay until released). */
  clear(): void {
    for (const [index, entry] of [...this.blocks]) this.drop(index, entry);
  }

  /** Removes `entry` (once) and drops the set's reference. */
  private drop(index: number, entry: ReadBack): void {
    if (this.blocks.get(index) !== entry) return;
    this.blocks.delete(index);
    entry.block.release();
  }
}
