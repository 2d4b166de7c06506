/**
 * Reusable fixed-size buffers for the byte paths (cached bodies, fill
 * blocks). A busy process otherwise allocates a fresh 256 KiB buffer per
 * read and leaves the spent ones to the GC, which collects them only after
 * tens of MB have piled up outside the V8 heap: most of a busy process's peak
 * RSS. Buffers come back only through owners that know the bytes are no
 * longer referenced (a completed socket write, a block nobody holds).
 *
 * While busy the pool keeps up to `max` idle buffers; once no buffer was
 * taken for a whole `trimEveryMs`, it drops down to `keepIdle`.
 */
export class BufferPool {
  private readonly idleBuffers: Buffer[] = [];
  private takenSinceTrim = 0;
  private trimmer: NodeJS.Timeout | undefined;

  constructor(
    readonly size: number,
    private readonly max: number,
    private readonly keepIdle: number,
    private readonly trimEveryMs: number,
  ) {}

  /** A buffer of `size` bytes, reused or new; its content is arbitrary. */
  take(): Buffer {
    this.takenSinceTrim += 1;
    return this.idleBuffers.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Returns a buffer nobody references any more; other sizes and overflow are left to the GC. */
  give(buf: Buffer): void {
    if (buf.length !== this.size || buf.byteOffset !== 0 || buf.buffer.byteLength !== this.size || this.idleBuffers.length >= this.max) return;
    this.idleBuffers.push(buf);
    if (this.idleBuffers.length > this.keepIdle && this.trimmer === undefined) {
      this.trimmer = setInterval(() => this.trim(), this.trimEveryMs);
      this.trimmer.unref();
    }
  }

  /** One trim step: drops idle buffers down to `keepIdle` when none was taken since the previous step. */
  trim(): void {
    if (this.takenSinceTrim === 0) this.idleBuffers.length = Math.min(this.idleBuffers.length, this.keepIdle);
    this.takenSinceTrim = 0;
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

/** The process-wide pool of CHUNK_SIZE buffers: up to 128 (32 MiB) while busy, 8 when idle. */
export const chunkPool = new BufferPool(CHUNK_SIZE, 128, 8, 10_000);

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
