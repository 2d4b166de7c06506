/**
 * One artifact fill: a single upstream download teed into a pending store
 * object, followed by any number of waiting clients.
 *
 * Invariants:
 * - The download runs on the server-lifetime signal, never on a client's:
 *   a client that goes away only stops its own follower.
 * - Followers near the head share the fill's in-memory window of recent
 *   blocks (views, no copies); those that fell behind share blocks read
 *   back once from the pending object (a bounded set per fill), so a slow
 *   client never pins more than a few blocks and never slows the fill.
 * - The last `route.holdBack` bytes (default HOLDBACK) are released only
 *   after `verify` passed and the object is committed: no client ever
 *   receives a complete unverified artifact. On failure every follower is
 *   destroyed with the error and nothing is committed.
 * - A download of unknown length that no client follows or waits for is
 *   abandoned after a while (see checkIdle).
 * - The pending object's read handle is disposed once the fill is final and
 *   no follower remains.
 * - Blocks (window and read-back) are pooled and reference-counted: a buffer
 *   is reused only after every view of it was handed back by a consumer whose
 *   socket write completed; views never handed back leave it to the GC.
 */
import { Readable } from 'node:stream';
import type { ChunkLender, ObjectMeta, PendingObject } from './store.js';
import type { SharedBlock } from './buffer-pool.js';
import { RegcacheError } from './errors.js';
import { WINDOW_BLOCK, type FillWindow } from './fill-window.js';
import { runFill, type FillSpec } from './fill-run.js';
import { ReadBackBlocks } from './read-back.js';

export { HOLDBACK, type FillObserver, type FillSpec } from './fill-run.js';
/** Bytes a follower buffers ahead of its socket (views of the window or file reads); kept small: 100 followers hold 100 of these. */
const FOLLOWER_BUFFER = 64 * 1024;
/** Announced size from which clients get response headers before the first byte is released. */
export const STREAM_EARLY = 1024 * 1024;

/** A running or finished fill. */
export class Fill {
  state: 'fetching' | 'streaming' | 'committed' | 'failed' = 'fetching';
  /** Announced size, once upstream headers arrived (may stay undefined). */
  size: number | undefined;
  released = 0;
  error: RegcacheError | undefined;
  meta: ObjectMeta | undefined;
  /** The stored copy this fill revalidates or replaces (mutable or expired artifacts); undefined for a plain miss. */
  readonly replaces: ObjectMeta | undefined;
  /** Committed without new bytes: upstream confirmed the stored copy, which was renewed. */
  unchanged = false;
  /** Settles when the fill is final (committed or failed); never rejects. */
  readonly done: Promise<void>;
  /** Settles once the fill is final and its last follower is gone (its memory released); never rejects. */
  readonly served: Promise<void>;
  private markServed: () => void = () => undefined;
  private pending: PendingObject | undefined;
  /** Recent bytes in memory, shared by followers near the head; freed on dispose. */
  private window: FillWindow | undefined;
  /** Blocks read back for followers behind the window. */
  private readonly readBack = new ReadBackBlocks(() => this.state === 'committed');
  private followers = 0;
  private disposed = false;
  /** Requests waiting in ready(): clients too, though not following yet. */
  private waiting = 0;
  /** Ends the download when nobody is left to serve (see FillSpec.abandonAfterMs), armed by the runner. */
  private abandon: { afterMs: number; now: () => void } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private wakeups: Array<() => void> = [];
  private notifyScheduled = false;

  constructor(spec: FillSpec) {
    this.replaces = spec.replaces;
    this.served = new Promise((resolve) => {
      this.markServed = resolve;
    });
    this.done = runFill(this, spec);
  }

  /**
   * Resolves once a follower can start: bytes released, the object
   * committed, or, for an artifact announced at STREAM_EARLY bytes or more,
   * as soon as upstream's headers arrived (the response headers go out while
   * the first bytes are still on their way; such a download was going to be
   * streamed unverified-but-held-back anyway). Rejects on failure. Smaller
   * artifacts wait for their first released bytes, so most failures still
   * reach the client as a clean JSON error.
   */
  async ready(): Promise<void> {
    this.waiting++;
    this.checkIdle();
    try {
      for (;;) {
        if (this.state === 'failed') throw this.error ?? new RegcacheError('ERR_INTERNAL');
        if (this.state === 'committed' || this.released > 0) return;
        if (this.state === 'streaming' && this.size !== undefined && this.size >= STREAM_EARLY) return;
        await this.changed();
      }
    } finally {
      this.waiting--;
      this.checkIdle();
    }
  }

  /** Whether followers can still read from the pending object. */
  get followable(): boolean {
    return !this.disposed && this.pending !== undefined;
  }

  /**
   * A stream of bytes [start, end] that follows the download as it lands.
   * It lends its chunks (views of shared blocks): a consumer that hands a
   * chunk back once written lets the block's memory be reused.
   */
  follow(start = 0, end?: number): Readable {
    const pending = this.pending;
    if (!pending || this.disposed) throw new Error('fill is not followable');
    this.followers++;
    this.checkIdle();
    /**
     * Views handed on and not yet handed back, each holding one reference to
     * its block. Weak: a consumer that drops views without handing them back
     * leaves their blocks to the GC instead of having this follower hold them.
     */
    const lent = new WeakMap<Buffer, SharedBlock>();
    const gen = async function* (this: Fill): AsyncGenerator<Buffer> {
      let pos = start;
      for (;;) {
        const limit = end === undefined ? this.released : Math.min(end + 1, this.released);
        if (pos < limit) {
          const shared = this.window?.view(pos, limit);
          if (shared) {
            shared.block.retain();
            lent.set(shared.bytes, shared.block);
            pos += shared.bytes.length;
            yield shared.bytes;
            continue;
          }
          // Behind the window: blocks read back from the pending object, shared by
          // the followers at about the same position (with many clients they move together).
          const index = Math.floor(pos / WINDOW_BLOCK);
          const entry = this.readBack.get(pending, index);
          entry.block.retain();
          let length: number;
          try {
            length = await entry.read;
          } catch (err) {
            entry.block.release();
            if (this.state === 'failed') throw this.error ?? err;
            throw err;
          }
          const from = pos - index * WINDOW_BLOCK;
          const to = Math.min(length, limit - index * WINDOW_BLOCK);
          if (to <= from) {
            entry.block.release();
            throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'short read while following a fill');
          }
          const bytes = entry.block.buf.subarray(from, to);
          lent.set(bytes, entry.block);
          pos += bytes.length;
          yield bytes;
          continue;
        }
        if (this.state === 'committed') return;
        if (end !== undefined && pos > end) return;
        if (this.state === 'failed') throw this.error ?? new RegcacheError('ERR_INTERNAL');
        await this.changed();
      }
    }.call(this);
    const stream = Readable.from(gen, { objectMode: false, highWaterMark: FOLLOWER_BUFFER });
    const lender: ChunkLender = {
      releaseChunk(chunk: Buffer): void {
        const block = lent.get(chunk);
        if (block === undefined) return;
        lent.delete(chunk);
        block.release();
      },
    };
    stream.once('close', () => {
      this.followers--;
      this.checkIdle();
      void this.maybeDispose();
    });
    return Object.assign(stream, lender);
  }

  /**
   * A download of unknown length that no client follows or waits for is
   * abandoned after `abandon.afterMs` (a body that never ends must not be
   * spooled forever once its last client left); one with an announced
   * length ends by itself (more bytes than announced fail it at once).
   */
  private checkIdle(): void {
    const idle = this.abandon !== undefined && this.state === 'streaming' && this.size === undefined && this.followers + this.waiting === 0;
    if (idle && this.idleTimer === undefined && this.abandon) {
      this.idleTimer = setTimeout(this.abandon.now, this.abandon.afterMs);
      this.idleTimer.unref();
    } else if (!idle && this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
  }

  private notifySoon(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wakeups;
    this.wakeups = [];
    for (const fn of w) fn();
  }

  private async maybeDispose(): Promise<void> {
    if (this.disposed || this.followers > 0) return;
    if (this.state !== 'committed' && this.state !== 'failed') return;
    this.disposed = true;
    this.window?.clear();
    this.window = undefined;
    this.readBack.clear();
    this.markServed();
    await this.pending?.dispose();
  }

  /** For the runner (fill-run.ts): the upstream body is streaming into `pending`; recent bytes are in `window`. */
  begin(pending: PendingObject, window: FillWindow, size: number | undefined, abandon?: { afterMs: number; now: () => void }): void {
    this.abandon = abandon;
    this.pending = pending;
    this.window = window;
    this.size = size;
    this.state = 'streaming';
    this.checkIdle();
    this.notify();
  }

  /** For the runner: bytes [0, upTo) may go to followers. */
  release(upTo: number): void {
    if (upTo <= this.released) return;
    const first = this.released === 0;
    this.released = upTo;
    // The first bytes wake followers at once; later progress at most once per event-loop turn,
    // so 100 followers at the head are not woken for every 16 KiB TLS record.
    if (first) this.notify();
    else this.notifySoon();
  }

  /** For the runner: the object is committed (by this fill or, adopted, by another process) as `meta`; `unchanged` when it is the stored copy, renewed. */
  settle(meta: ObjectMeta, unchanged = false): void {
    this.unchanged = unchanged;
    this.meta = meta;
    this.size = meta.size;
    this.released = meta.size;
    this.state = 'committed';
    this.checkIdle();
    this.notify();
  }

  /** For the runner: the fill failed; nothing is committed and every follower gets `error`. */
  async fail(error: RegcacheError): Promise<void> {
    this.error = error;
    this.state = 'failed';
    this.checkIdle();
    await this.pending?.abort().catch(() => undefined);
    this.notify();
  }

  /** For the runner: bytes appended to the pending object so far. */
  get written(): number {
    return this.pending?.written ?? 0;
  }

  /** For the runner, once the fill is final: releases memory and handles unless followers still read. */
  finish(): Promise<void> {
    return this.maybeDispose();
  }
}
