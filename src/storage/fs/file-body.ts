/**
 * The body stream of a cached file: reads [start, end] of an open file into
 * pooled buffers (core/buffer-pool; 256 KiB, or 64 KiB while many bodies are
 * open) and lends them to its consumer.
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
 * The stream owns the FileHandle: it is closed once, at end, error or
 * destroy, and never while a read is in flight (the descriptor number could
 * otherwise be reused by another open under that read).
 */
import { read as fsRead } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { chunkPool, CHUNK_SIZE, SMALL_CHUNK_SIZE, smallChunkPool } from '../../core/buffer-pool.js';
import type { ChunkLender } from '../store.js';

/**
 * Bodies open at once above which reads use 64 KiB chunks instead of 256 KiB.
 * Each response holds about three chunks (one being read, one queued, one in
 * the socket; over TLS also its encrypted copy): 64 responses of 256 KiB
 * chunks would hold about 50 MB.
 */
const BUSY_BODIES = 16;
let openBodies = 0;

/** Bodies currently open (tests, diagnostics). */
export function openFileBodies(): number {
  return openBodies;
}

const take = (): Buffer => (openBodies > BUSY_BODIES ? smallChunkPool : chunkPool).take();
const give = (buf: Buffer): void => (buf.length === CHUNK_SIZE ? chunkPool : smallChunkPool).give(buf);

class FileBody extends Readable implements ChunkLender {
  readonly #fh: FileHandle;
  #pos: number;
  readonly #end: number;
  /**
   * Chunks pushed and not yet handed back: the pushed view to its pooled
   * buffer. Weak, so a consumer that never hands chunks back (a hash over
   * the whole body, say) does not make this stream hold every chunk.
   */
  readonly #lent = new WeakMap<Buffer, Buffer>();
  #reading = false;
  #closeAfterRead: (() => void) | undefined;

  constructor(fh: FileHandle, start: number, end: number) {
    // One chunk of either size is enough read-ahead: the next read starts once it is taken.
    super({ highWaterMark: SMALL_CHUNK_SIZE });
    openBodies += 1;
    this.#fh = fh;
    this.#pos = start;
    this.#end = end;
  }

  override _read(): void {
    const remaining = this.#end - this.#pos + 1;
    if (remaining <= 0) {
      this.push(null);
      return;
    }
    const buf = take();
    this.#reading = true;
    fsRead(this.#fh.fd, buf, 0, Math.min(buf.length, remaining), this.#pos, (err, n) => {
      this.#reading = false;
      const closeNow = this.#closeAfterRead;
      if (closeNow) {
        give(buf);
        closeNow();
        return;
      }
      if (this.destroyed) {
        give(buf);
        return;
      }
      if (err) {
        give(buf);
        this.destroy(err);
        return;
      }
      if (n === 0) {
        give(buf);
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
    give(buf);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    openBodies -= 1;
    const close = (): void => {
      this.#closeAfterRead = undefined;
      this.#fh.close().then(
        () => cb(err),
        (closeErr: Error) => cb(err ?? closeErr),
      );
    };
    if (this.#reading) this.#closeAfterRead = close;
    else close();
  }
}

/** A body stream over bytes [start, end] (inclusive) of `fh`; it closes `fh`. */
export function fileBody(fh: FileHandle, start: number, end: number): Readable {
  return new FileBody(fh, start, end);
}
