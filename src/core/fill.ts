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
 * - The last HOLDBACK bytes are released only after `verify` passed and the
 *   object is committed: no client ever receives a complete unverified
 *   artifact. On failure every follower is destroyed with the error and
 *   nothing is committed.
 * - The pending object's read handle is disposed once the fill is final and
 *   no follower remains.
 * - Blocks (window and read-back) are pooled and reference-counted: a buffer
 *   is reused only after every view of it was handed back by a consumer whose
 *   socket write completed; views never handed back leave it to the GC.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ChunkLender, ObjectMeta, PendingObject, Store } from './store.js';
import { chunkPool, SharedBlock } from './buffer-pool.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import type { Coordinator, Lease } from './coordinator.js';
import { FillWindow, WINDOW_BLOCK } from './fill-window.js';
import type { ArtifactRoute, ArtifactSource } from './route.js';

/** Bytes withheld from followers until verification succeeded. */
export const HOLDBACK = 64 * 1024;
/** Blocks kept for followers behind the window (16 MiB per fill). */
const READ_BACK_BLOCKS = 64;
/** Bytes a follower buffers ahead of its socket (views of the window or file reads); kept small: 100 followers hold 100 of these. */
const FOLLOWER_BUFFER = 64 * 1024;
/** Announced size from which clients get response headers before the first byte is released. */
export const STREAM_EARLY = 1024 * 1024;

/** A block read back from the pending object, and the read filling it (resolves to its length). */
interface ReadBack {
  block: SharedBlock;
  read: Promise<number>;
}

/** Observers of a fill's outcome (logs, metrics). */
export interface FillObserver {
  onFillStart?(key: string): void;
  /** `relayed`: the bytes came from another worker process's download (server.workers), not from upstream. */
  onFillEnd?(key: string, outcome: { ok: boolean; bytes: number; ms: number; error?: RegcacheError; relayed?: boolean }): void;
}

/** A running or finished fill. */
export class Fill {
  state: 'fetching' | 'streaming' | 'committed' | 'failed' = 'fetching';
  /** Announced size, once upstream headers arrived (may stay undefined). */
  size: number | undefined;
  released = 0;
  error: RegcacheError | undefined;
  meta: ObjectMeta | undefined;
  /** Settles when the fill is final (committed or failed); never rejects. */
  readonly done: Promise<void>;
  /** Settles once the fill is final and its last follower is gone (its memory released); never rejects. */
  readonly served: Promise<void>;
  private markServed: () => void = () => undefined;
  private pending: PendingObject | undefined;
  /** Recent bytes in memory, shared by followers near the head; freed on dispose. */
  private window: FillWindow | undefined;
  /** Blocks read back for followers behind the window, most recently used last. */
  private readBack = new Map<number, ReadBack>();
  private followers = 0;
  private disposed = false;
  private wakeups: Array<() => void> = [];
  private notifyScheduled = false;

  constructor(
    private readonly store: Store,
    private readonly route: ArtifactRoute,
    private readonly signal: AbortSignal,
    private readonly observer: FillObserver,
    private readonly coordinator?: Coordinator,
  ) {
    this.served = new Promise((resolve) => {
      this.markServed = resolve;
    });
    this.done = this.run();
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
    for (;;) {
      if (this.state === 'failed') throw this.error ?? new RegcacheError('ERR_INTERNAL');
      if (this.state === 'committed' || this.released > 0) return;
      if (this.state === 'streaming' && this.size !== undefined && this.size >= STREAM_EARLY) return;
      await this.changed();
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
          const entry = this.readBlock(pending, index);
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
      void this.maybeDispose();
    });
    return Object.assign(stream, lender);
  }

  /**
   * One block of the pending object read back once for every follower that
   * needs it. The read-back set holds one reference to each block and the
   * read in flight another, so the buffer is never reused under a read.
   */
  private readBlock(pending: PendingObject, index: number): ReadBack {
    const hit = this.readBack.get(index);
    if (hit) {
      this.readBack.delete(index);
      this.readBack.set(index, hit);
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
    this.readBack.set(index, entry);
    read.then(
      (length) => {
        block.release();
        // Only whole blocks (or the last one of a finished download) stay shared.
        if (length < WINDOW_BLOCK && this.state !== 'committed') this.dropReadBack(index, entry);
      },
      () => {
        block.release();
        this.dropReadBack(index, entry);
      },
    );
    while (this.readBack.size > READ_BACK_BLOCKS) {
      const [oldest, old] = this.readBack.entries().next().value ?? [];
      if (oldest === undefined || old === undefined) break;
      this.dropReadBack(oldest, old);
    }
    return entry;
  }

  /** Removes `entry` from the read-back set (once) and drops the set's reference. */
  private dropReadBack(index: number, entry: ReadBack): void {
    if (this.readBack.get(index) !== entry) return;
    this.readBack.delete(index);
    entry.block.release();
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
    for (const [index, entry] of [...this.readBack]) this.dropReadBack(index, entry);
    this.markServed();
    await this.pending?.dispose();
  }

  /** Adopts an object another process committed; true when there was one. */
  private async adoptCommitted(): Promise<boolean> {
    const meta = await this.store.stat(this.route.key);
    if (!meta || (this.route.matches && !this.route.matches(meta))) return false;
    this.meta = meta;
    this.size = meta.size;
    this.released = meta.size;
    this.state = 'committed';
    this.notify();
    return true;
  }

  private async run(): Promise<void> {
    const started = Date.now();
    const { route } = this;
    this.observer.onFillStart?.(route.key);
    let body: Readable | undefined;
    let lease: Lease | undefined;
    /** Set when the bytes come from another worker's download of the key (server.workers), not from upstream. */
    let relayed = false;
    try {
      let source: ArtifactSource | undefined;
      // A worker that was downloading may finish (or fail) before it is asked for its bytes: claim again.
      for (let attempt = 0; this.coordinator && attempt < 3; attempt++) {
        const claim = await this.coordinator.claim(route.key, async () => (await this.store.stat(route.key)) !== undefined, this.signal);
        if (claim.kind === 'remote') {
          // One stream from the downloading worker feeds this fill; this worker's clients follow it here.
          const got = await claim.remote.open(this.signal);
          if (got) {
            source = got.size === undefined ? { body: got.body } : { body: got.body, size: got.size };
            relayed = true;
            break;
          }
          if (await this.adoptCommitted()) return;
          continue;
        }
        if (claim.kind === 'leader') lease = claim.lease;
        if (claim.kind !== 'uncoordinated' && (await this.adoptCommitted())) return;
        break;
      }
      source ??= await route.fetch(this.signal);
      body = source.body;
      this.size = source.size;
      const pending = await this.store.create(route.key);
      this.pending = pending;
      this.state = 'streaming';
      this.notify();
      const hash = createHash('sha256');
      const window = new FillWindow();
      this.window = window;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (this.size !== undefined && window.received + chunk.length > this.size) {
          throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream sent more bytes than announced');
        }
        hash.update(chunk);
        const full = window.push(chunk);
        // Released bytes may still be only in memory: followers read them from the window.
        const releasable = Math.max(0, window.received - HOLDBACK);
        if (releasable > this.released) {
          const first = this.released === 0;
          this.released = releasable;
          // The first bytes wake followers at once; later progress at most once per event-loop turn,
          // so 100 followers at the head are not woken for every 16 KiB TLS record.
          if (first) this.notify();
          else this.notifySoon();
        }
        if (full.length > 0) {
          for (const block of full) await pending.append(block);
          window.persistedUpTo(pending.written);
        }
      }
      const tail = window.tail();
      if (tail) await pending.append(tail);
      window.persistedUpTo(pending.written);
      if (this.size !== undefined && pending.written !== this.size) {
        throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream body shorter than announced');
      }
      const sha256 = hash.digest('hex');
      const summary = { sha256, size: pending.written, digests: { sha256 } };
      await route.verify(summary);
      // A relayed fill's last bytes arrive only once the downloading worker committed them: the same
      // bytes need not be stored twice. Its pending file stays for followers still reading it.
      const stored = relayed ? await this.store.stat(route.key) : undefined;
      const meta =
        stored && stored.sha256 === summary.sha256 && stored.size === summary.size
          ? stored
          : await pending.commit({
              class: route.class ?? 'artifact',
              sha256: summary.sha256,
              contentType: route.contentType,
              storedAt: Date.now(),
              ...(route.attrs ? { attrs: route.attrs } : {}),
            });
      this.meta = meta;
      this.size = meta.size;
      this.released = meta.size;
      this.state = 'committed';
      this.notify();
      this.observer.onFillEnd?.(route.key, { ok: true, bytes: meta.size, ms: Date.now() - started, relayed });
    } catch (err) {
      body?.destroy();
      this.error = this.signal.aborted ? new RegcacheError('ERR_SHUTTING_DOWN', undefined, { cause: err }) : toRegcacheError(err);
      this.state = 'failed';
      await this.pending?.abort().catch(() => undefined);
      this.notify();
      this.observer.onFillEnd?.(route.key, { ok: false, bytes: this.pending?.written ?? 0, ms: Date.now() - started, error: this.error, relayed });
    } finally {
      await lease?.release();
      await this.maybeDispose();
    }
  }
}
