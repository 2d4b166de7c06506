/**
 * The body stream of a cached file: reads [start, end] of an open file into
 * pooled 256 KiB buffers (core/buffer-pool) and lends them to its consumer.
 *
 * A plain read stream allocates a fresh buffer per read; at high concurrency
 * the spent ones pile up outside the V8 heap until a collection notices them,
 * which is most of a busy process's peak RSS. Here a consumer that knows when
 * a chunk is no longer needed (its socket write completed) hands it back with
 * `releaseChunk`, and the next read, of any response, reuses the memory.
 * Consumers that never release are still correct: their chunks are simply
 * garbage-collected. A chunk is taken back only once, only from the stream
 * that lent it, and only as the exact object it pushed.
 *
 * The stream holds a lease on its open file (open-files.ts): released
 * once, at end, error or destroy, and never while a read is in flight (the
 * descriptor number could otherwise be closed and reused under that read).
 */
import { read as fsRead } from 'node:fs';
import { Readable } from 'node:stream';
import { chunkPool, CHUNK_SIZE } from '../../core/buffer-pool.js';
import type { ChunkLender } from '../../core/store.js';
import type { FileLease } from './open-files.js';

/**
 * Bodies open before a new one stops reading ahead. With few open, each
 * reads its next chunk while the previous one is on the socket (a lone
 * download keeps the socket busy). With more open, the others keep the
 * process busy during that read, and a chunk read ahead per response is
 * memory nobody needs yet: 64 TLS downloads hold 16 MiB less without it.
 */
export const READ_AHEAD_MAX_OPEN = 16;
let openBodies = 0;

/** Cached bodies currently open (tests). */
export function openBodyCount(): number {
  return openBodies;
}

/** Bytes already read for the stream: a pooled chunk and the view of it to emit. */
export interface Prefetched {
  chunk: Buffer;
  view: Buffer;
}

class FileBody extends Readable implements ChunkLender {
  readonly #file: FileLease | undefined;
  #prefetched: Prefetched | undefined;
  #pos: number;
  readonly #end: number;
  /**
   * Chunks pushed and not yet handed back: the pushed view to its pooled
   * buffer. Weak, so a consumer that never hands chunks back (a hash over
   * the whole body, say) does not make this stream hold every chunk.
   */
  readonly #lent = new WeakMap<Buffer, Buffer>();
  #reading = false;
  #releaseAfterRead: (() => void) | undefined;

  constructor(file: FileLease | undefined, start: number, end: number, prefetched?: Prefetched) {
    // highWaterMark 0: the next chunk is read only once the consumer asks for it (after its socket drained).
    super({ highWaterMark: openBodies < READ_AHEAD_MAX_OPEN ? CHUNK_SIZE : 0 });
    openBodies++;
    this.#file = file;
    this.#pos = start;
    this.#end = end;
    this.#prefetched = prefetched;
  }

  override _read(): void {
    const pre = this.#prefetched;
    if (pre) {
      this.#prefetched = undefined;
      this.#pos += pre.view.length;
      this.#lent.set(pre.view, pre.chunk);
      this.push(pre.view);
      return;
    }
    const remaining = this.#end - this.#pos + 1;
    if (remaining <= 0) {
      this.push(null);
      return;
    }
    const file = this.#file;
    if (!file) {
      this.destroy(new Error(`cached body has no file for its last ${remaining} bytes`));
      return;
    }
    const buf = chunkPool.take();
    this.#reading = true;
    fsRead(file.file.fh.fd, buf, 0, Math.min(buf.length, remaining), this.#pos, (err, n) => {
      this.#reading = false;
      const releaseNow = this.#releaseAfterRead;
      if (releaseNow) {
        chunkPool.give(buf);
        releaseNow();
        return;
      }
      if (this.destroyed) {
        chunkPool.give(buf);
        return;
      }
      if (err) {
        chunkPool.give(buf);
        this.destroy(err);
        return;
      }
      if (n === 0) {
        chunkPool.give(buf);
        this.destroy(new Error(`cached file ended ${remaining} bytes early`));
        return;
      }
      this.#pos += n;
      const view = n === buf.length ? buf : buf.subarray(0, n);
      this.#lent.set(view, buf);
      this.push(view);
    });
  }

  releaseChunk(chunk: Buffer): void {
    const buf = this.#lent.get(chunk);
    if (buf === undefined) return;
    this.#lent.delete(chunk);
    chunkPool.give(buf);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    openBodies--;
    if (this.#prefetched) {
      chunkPool.give(this.#prefetched.chunk);
      this.#prefetched = undefined;
    }
    const file = this.#file;
    if (!file) {
      cb(err);
      return;
    }
    const release = (): void => {
      this.#releaseAfterRead = undefined;
      file.release();
      cb(err);
    };
    if (this.#reading) this.#releaseAfterRead = release;
    else release();
  }
}

/**
 * A body stream over bytes [start, end] (inclusive) of a leased open file;
 * it releases the lease once, after its last read settled. With
 * `prefetched` (bytes from `start` on, already read into a pooled chunk the
 * stream then owns) those are emitted first; `file` may be undefined when
 * they cover the whole range.
 */
export function fileBody(file: FileLease | undefined, start: number, end: number, prefetched?: Prefetched): Readable {
  return new FileBody(file, start, end, prefetched);
}
