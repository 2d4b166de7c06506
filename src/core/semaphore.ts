/**
 * A counting semaphore for scarce process-wide resources (child processes,
 * temporary directories): at most `limit` holders at once, the rest wait in
 * arrival order.
 *
 * Invariant: every granted slot is released exactly once (the release
 * function ignores repeated calls), and a waiter that gives up (its signal
 * fired or its deadline passed) leaves the queue without taking a slot.
 */
import { RegcacheError } from './errors.js';

/** A waiter in line. */
interface Waiter {
  grant: (release: () => void) => void;
}

/** Limits how many holders run at once. */
export class Semaphore {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('semaphore limit must be a positive integer');
  }

  /** Holders right now. */
  get running(): number {
    return this.active;
  }

  /** Waiters right now. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with a release function once a slot is free. Rejects with the
   * signal's reason, or with ERR_UPSTREAM_TIMEOUT after `waitMs`, without
   * taking a slot.
   */
  acquire(opts: { signal?: AbortSignal; waitMs?: number; what?: string } = {}): Promise<() => void> {
    if (opts.signal?.aborted === true) return Promise.reject(reasonOf(opts.signal));
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (err: Error): void => {
        const at = this.queue.indexOf(waiter);
        if (at < 0) return;
        this.queue.splice(at, 1);
        cleanup();
        reject(err);
      };
      const onAbort = (): void => leave(reasonOf(opts.signal));
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
      };
      this.queue.push(waiter);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.waitMs !== undefined) {
        timer = setTimeout(() => leave(new RegcacheError('ERR_UPSTREAM_TIMEOUT', `waited too long for a free slot (${opts.what ?? 'busy'})`)), opts.waitMs);
      }
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next !== undefined) next.grant(this.releaser());
      else this.active--;
    };
  }
}

function reasonOf(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new RegcacheError('ERR_SHUTTING_DOWN');
}
