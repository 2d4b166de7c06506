/**
 * Reusable fixed-size buffers for the byte paths (cached bodies, fill
 * blocks). A busy process otherwise allocates a fresh 256 KiB buffer per
 * read and leaves the spent ones to the GC, which collects them only after
 * tens of MB have piled up outside the V8 heap: most of a busy process's peak
 * RSS. Buffers come back only through owners that know the bytes are no
 * longer referenced (a completed socket write, a block nobody holds).
 *
 * The pool keeps up to `max` idle buffers. Every `trimEveryMs` (while it
 * holds more than `keepIdle`) it drops the buffers that stayed idle through
 * the whole step, down to `keepIdle`: after a burst (a fill's read-back
 * blocks coming home, say) it shrinks to what is still being used within a
 * step or two, while buffers in steady use stay.
 */
export class BufferPool {
  private readonly idleBuffers: Buffer[] = [];
  /** The fewest idle buffers seen since the last trim step: that many were not needed during it. */
  private lowWater = 0;
  private trimmer: NodeJS.Timeout | undefined;

  constructor(
    readonly size: number,
    private readonly max: number,
    private readonly keepIdle: number,
    private readonly trimEveryMs: number,
  ) {}

  /** A buffer of `size` bytes, reused or new; its content is arbitrary. */
  take(): Buffer {
    const buf = this.idleBuffers.pop();
    if (this.idleBuffers.length < this.lowWater) this.lowWater = this.idleBuffers.length;
    return buf ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Returns a buffer nobody references any more; other sizes and overflow are left to the GC. */
  give(buf: Buffer): void {
    if (buf.length !== this.size || buf.byteOffset !== 0 || buf.buffer.byteLength !== this.size || this.idleBuffers.length >= this.max) return;
    this.idleBuffers.push(buf);
    if (this.idleBuffers.length > this.keepIdle && this.trimmer === undefined) {
      this.lowWater = this.idleBuffers.length;
      this.trimmer = setInterval(() => this.trim(), this.trimEveryMs);
      this.trimmer.unref();
    }
  }

  /** One trim step: drops the buffers that stayed idle since the previous step, down to `keepIdle`. */
  trim(): void {
    const surplus = Math.min(this.lowWater, this.idleBuffers.length) - this.keepIdle;
    if (surplus > 0) this.idleBuffers.length -= surplus;
    this.lowWater = this.idleBuffers.length;
    if (this.idleBuffers.length <= this.keepIdle && this.trimmer !== undefined) {
      clearInterval(this.trimmer);
      this.trimmer = undefined;
    }
  }

  /** Idle buffers held (tests, diagnostics). */
  get idle(): number {
    return this.idleBuffers.length;
  }
}

/** Bytes per read of a cached body and per fill block: fewer, larger reads and socket writes. */
export const CHUNK_SIZE = 256 * 1024;

/** The process-wide pool of CHUNK_SIZE buffers: up to 128 idle (32 MiB), trimmed every second to what was used, 8 when idle. */
export const chunkPool = new BufferPool(CHUNK_SIZE, 128, 8, 1_000);

/**
 * A pooled buffer shared by several readers. The holder that created it owns
 * one reference; each reader that is handed a view retains one and releases
 * it when done with the bytes. The buffer goes back to the pool when the
 * last reference is released; a reference never released only means the
 * buffer is left to the GC.
 */
export class SharedBlock {
  private refs = 1;

  constructor(
    readonly buf: Buffer,
    private readonly pool: BufferPool = chunkPool,
  ) {}

  retain(): void {
    if (this.refs <= 0) throw new Error('SharedBlock retained after its last release');
    this.refs += 1;
  }

  release(): void {
    if (this.refs <= 0) throw new Error('SharedBlock released more often than retained');
    this.refs -= 1;
    if (this.refs === 0) this.pool.give(this.buf);
  }
}
