/**
 * One artifact fill: a single upstream download teed into a pending store
 * object, followed by any number of waiting clients.
 *
 * Invariants:
 * - The download runs on the server-lifetime signal, never on a client's:
 *   a client that goes away only stops its own follower.
 * - Followers read bytes back from the pending object, so a slow client
 *   never holds download bytes in memory and never slows the fill.
 * - The last HOLDBACK bytes are released only after `verify` passed and the
 *   object is committed: no client ever receives a complete unverified
 *   artifact. On failure every follower is destroyed with the error and
 *   nothing is committed.
 * - The pending object's read handle is disposed once the fill is final and
 *   no follower remains.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectMeta, PendingObject, Store } from '../storage/store.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import type { Coordinator, Lease } from './coordinator.js';
import type { ArtifactRoute } from './route.js';

/** Bytes withheld from followers until verification succeeded. */
export const HOLDBACK = 64 * 1024;
const READ_CHUNK = 256 * 1024;

/** Observers of a fill's outcome (logs, metrics). */
export interface FillObserver {
  onFillStart?(key: string): void;
  onFillEnd?(key: string, outcome: { ok: boolean; bytes: number; ms: number; error?: RegcacheError }): void;
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
  private pending: PendingObject | undefined;
  private followers = 0;
  private disposed = false;
  private wakeups: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly route: ArtifactRoute,
    private readonly signal: AbortSignal,
    private readonly observer: FillObserver,
    private readonly coordinator?: Coordinator,
  ) {
    this.done = this.run();
  }

  /** Resolves once a follower can start (bytes released or committed); rejects on failure. */
  async ready(): Promise<void> {
    for (;;) {
      if (this.state === 'failed') throw this.error ?? new RegcacheError('ERR_INTERNAL');
      if (this.state === 'committed' || this.released > 0) return;
      await this.changed();
    }
  }

  /** Whether followers can still read from the pending object. */
  get followable(): boolean {
    return !this.disposed && this.pending !== undefined;
  }

  /** A stream of bytes [start, end] that follows the download as it lands. */
  follow(start = 0, end?: number): Readable {
    const pending = this.pending;
    if (!pending || this.disposed) throw new Error('fill is not followable');
    this.followers++;
    const gen = async function* (this: Fill): AsyncGenerator<Buffer> {
      let pos = start;
      for (;;) {
        const limit = end === undefined ? this.released : Math.min(end + 1, this.released);
        if (pos < limit) {
          let buf: Uint8Array;
          try {
            buf = await pending.readAt(pos, Math.min(limit - pos, READ_CHUNK));
          } catch (err) {
            if (this.state === 'failed') throw this.error ?? err;
            throw err;
          }
          if (buf.length === 0) throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'short read while following a fill');
          pos += buf.length;
          yield Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
          continue;
        }
        if (this.state === 'committed') return;
        if (end !== undefined && pos > end) return;
        if (this.state === 'failed') throw this.error ?? new RegcacheError('ERR_INTERNAL');
        await this.changed();
      }
    }.call(this);
    const stream = Readable.from(gen, { objectMode: false, highWaterMark: READ_CHUNK });
    stream.once('close', () => {
      this.followers--;
      void this.maybeDispose();
    });
    return stream;
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
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
    try {
      if (this.coordinator) {
        const claim = await this.coordinator.claim(route.key, async () => (await this.store.stat(route.key)) !== undefined, this.signal);
        if (claim.kind === 'leader') lease = claim.lease;
        if (claim.kind !== 'uncoordinated' && (await this.adoptCommitted())) return;
      }
      const source = await route.fetch(this.signal);
      body = source.body;
      this.size = source.size;
      const pending = await this.store.create(route.key);
      this.pending = pending;
      this.state = 'streaming';
      const hash = createHash('sha256');
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (this.size !== undefined && pending.written + chunk.length > this.size) {
          throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream sent more bytes than announced');
        }
        hash.update(chunk);
        await pending.append(chunk);
        const releasable = Math.max(0, pending.written - HOLDBACK);
        if (releasable > this.released) {
          this.released = releasable;
          this.notify();
        }
      }
      if (this.size !== undefined && pending.written !== this.size) {
        throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream body shorter than announced');
      }
      const summary = { sha256: hash.digest('hex'), size: pending.written };
      await route.verify(summary);
      const meta = await pending.commit({
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
      this.observer.onFillEnd?.(route.key, { ok: true, bytes: meta.size, ms: Date.now() - started });
    } catch (err) {
      body?.destroy();
      this.error = this.signal.aborted ? new RegcacheError('ERR_SHUTTING_DOWN', undefined, { cause: err }) : toRegcacheError(err);
      this.state = 'failed';
      await this.pending?.abort().catch(() => undefined);
      this.notify();
      this.observer.onFillEnd?.(route.key, { ok: false, bytes: this.pending?.written ?? 0, ms: Date.now() - started, error: this.error });
    } finally {
      await lease?.release();
      await this.maybeDispose();
    }
  }
}
