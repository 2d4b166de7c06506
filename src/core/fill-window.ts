/**
 * The most recent bytes of a running fill, kept in memory in fixed-size
 * blocks so that followers near the head of the download share them instead
 * of each reading the spool file back.
 *
 * Upstream chunks (often 16 KiB TLS records) are copied once into the
 * current block; a full block is handed back to be appended to the pending
 * object in one write. A follower gets a view (`subarray`, no copy) of bytes
 * that are already final: bytes below a block's `filled` mark never change,
 * since later chunks are only written past it. Old blocks leave the window
 * once they are persisted and more than `maxBlocks` are held; a follower
 * that fell behind the window reads the spool file instead.
 *
 * Blocks are pooled SharedBlocks: the window holds one reference until a
 * block leaves it, and a follower retains one per view it hands on until its
 * socket write completed (see Fill.follow), so a block's memory is reused
 * only when nobody can still see it.
 */
import { CHUNK_SIZE, chunkPool, SharedBlock } from './buffer-pool.js';

interface Block {
  start: number;
  shared: SharedBlock;
  filled: number;
  persisted: boolean;
}

/** A view of window bytes and the block it belongs to (retain it to keep the bytes). */
export interface WindowView {
  bytes: Buffer;
  block: SharedBlock;
}

/** Block size: also the size of each append to the spool file. */
export const WINDOW_BLOCK = CHUNK_SIZE;

export class FillWindow {
  private blocks: Block[] = [];
  /** Bytes received so far (memory), at or ahead of what is persisted. */
  received = 0;

  constructor(
    private readonly blockSize = WINDOW_BLOCK,
    private readonly maxBlocks = 16,
  ) {}

  private newBuffer(): Buffer {
    return this.blockSize === chunkPool.size ? chunkPool.take() : Buffer.allocUnsafe(this.blockSize);
  }

  /** Copies `chunk` in; returns the blocks that became full, to be persisted in order. */
  push(chunk: Uint8Array): Buffer[] {
    const full: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      let cur = this.blocks.at(-1);
      if (!cur || cur.filled === this.blockSize) {
        cur = { start: this.received, shared: new SharedBlock(this.newBuffer()), filled: 0, persisted: false };
        this.blocks.push(cur);
      }
      const n = Math.min(chunk.length - off, this.blockSize - cur.filled);
      cur.shared.buf.set(chunk.subarray(off, off + n), cur.filled);
      cur.filled += n;
      off += n;
      this.received += n;
      if (cur.filled === this.blockSize) full.push(cur.shared.buf);
    }
    return full;
  }

  /** The bytes of the last, partly filled block (to persist at the end of the download). */
  tail(): Buffer | undefined {
    const cur = this.blocks.at(-1);
    if (!cur || cur.persisted || cur.filled === this.blockSize || cur.filled === 0) return undefined;
    return cur.shared.buf.subarray(0, cur.filled);
  }

  /** Marks every block up to byte `offset` as persisted and drops the oldest persisted ones beyond the window size. */
  persistedUpTo(offset: number): void {
    for (const b of this.blocks) if (b.start + b.filled <= offset) b.persisted = true;
    while (this.blocks.length > this.maxBlocks && this.blocks[0]?.persisted) this.blocks.shift()?.shared.release();
  }

  /** A view of bytes [pos, min(limit, end of pos's block)), or undefined when pos is not in memory. */
  view(pos: number, limit: number): WindowView | undefined {
    const first = this.blocks[0];
    if (!first || pos < first.start || pos >= this.received) return undefined;
    const b = this.blocks[Math.floor((pos - first.start) / this.blockSize)];
    if (!b || pos < b.start || pos >= b.start + b.filled) return undefined;
    const end = Math.min(limit, b.start + b.filled);
    if (end <= pos) return undefined;
    return { bytes: b.shared.buf.subarray(pos - b.start, end - b.start), block: b.shared };
  }

  /** Drops the window's reference to every block (blocks still viewed stay until released). */
  clear(): void {
    for (const b of this.blocks) b.shared.release();
    this.blocks = [];
  }
}
