/**
 * The body stream of a cached file: reads [start, end] of an open file into
 * pooled 256 KiB buffers and lends them to its consumer.
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
import type { ChunkLender } from '../store.js';

/** Bytes per read: fewer, larger reads and socket writes per response. */
export const READ_CHUNK = 256 * 1024;
/**
 * Idle buffers kept for reuse: up to 128 (32 MiB) while bodies are being
 * read, so a burst of concurrent responses recycles instead of allocating;
 * trimmed to TRIM_TO once no read took one for a whole TRIM_EVERY_MS.
 */
const POOL_MAX = 128;
const TRIM_TO = 8;
const TRIM_EVERY_MS = 10_000;

const pool: Buffer[] = [];
let takenSinceTrim = 0;
let trimmer: NodeJS.Timeout | undefined;

/**
 * One trim step (run every TRIM_EVERY_MS while the pool holds more than
 * TRIM_TO): drops idle buffers down to TRIM_TO when no read took one since
 * the previous step. Exported for tests.
 */
export function trimReadPool(): void {
  if (takenSinceTrim === 0) pool.length = Math.min(pool.length, TRIM_TO);
  takenSinceTrim = 0;
  if (pool.length <= TRIM_TO && trimmer !== undefined) {
    clearInterval(trimmer);
    trimmer = undefined;
  }
}

function take(): Buffer {
  takenSinceTrim += 1;
  return pool.pop() ?? Buffer.allocUnsafeSlow(READ_CHUNK);
}

function give(buf: Buffer): void {
  if (pool.length >= POOL_MAX) return;
  pool.push(buf);
  if (pool.length > TRIM_TO && trimmer === undefined) {
    trimmer = setInterval(trimReadPool, TRIM_EVERY_MS);
    trimmer.unref();
  }
}

/** Buffers waiting in the pool (tests and diagnostics). */
export function pooledReadBuffers(): number {
  return pool.length;
}

class FileBody extends Readable implements ChunkLender {
  readonly #fh: FileHandle;
  #pos: number;
  readonly #end: number;
  /** Chunks pushed and not yet handed back: the pushed view to its pooled buffer. */
  readonly #lent = new Map<Buffer, Buffer>();
  #reading = false;
  #closeAfterRead: (() => void) | undefined;

  constructor(fh: FileHandle, start: number, end: number) {
    super({ highWaterMark: READ_CHUNK });
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
