/**
 * Bounds for anything regcache unpacks from an upstream (zip entries, tar
 * streams, git archives, later npm tarballs, wheels, crates): an archive
 * chosen by a hostile upstream must cost bounded CPU, memory and time, and
 * must be abortable at shutdown.
 *
 * Invariant: a budget fails before work is done whenever the archive's own
 * claims already break a limit (declared sizes, ratios), and otherwise
 * during the work, at the first inflated chunk that breaks one; never only
 * at the end. Protocol-agnostic: callers say what the archive declares and
 * feed what they actually inflate.
 */
import { RegcacheError } from './errors.js';

/** How much unpacking one archive may cost. */
export interface InflateLimits {
  /** Most bytes inflated from one archive, all entries together. */
  maxInflatedBytes: number;
  /** Largest inflated : compressed ratio of one entry (or stream) larger than `ratioMinBytes`. */
  maxRatio: number;
  /** Entries up to this inflated size may have any ratio (small files of zeros are normal). */
  ratioMinBytes: number;
  /** Most entries in one archive (each costs a directory record held in memory). */
  maxEntries: number;
}

const GiB = 1024 * 1024 * 1024;

/**
 * Generous defaults no real artifact comes near: the largest providers
 * unpack to a few hundred MB at ratios below 10:1, while deflate's best
 * ratio (zeros) is about 1030:1.
 */
export const DEFAULT_INFLATE_LIMITS: Readonly<InflateLimits> = {
  maxInflatedBytes: 2 * GiB,
  maxRatio: 1000,
  ratioMinBytes: 1024 * 1024,
  maxEntries: 100_000,
};

/** The error for an archive that breaks a limit or is built to mislead; the message says which. */
export function unpackRefused(message: string): RegcacheError {
  return new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', message);
}

/** Formats a byte count for error messages. */
function bytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(n % GiB === 0 ? 0 : 1)} GiB`;
  if (n >= 1024 * 1024) return `${Math.round(n / (1024 * 1024))} MiB`;
  return `${n} bytes`;
}

/**
 * The budget of one unpacking: what the archive declares is checked up
 * front, what is actually inflated is counted as it happens, and the
 * signal (server shutdown) stops both.
 */
export class InflateBudget {
  private declaredTotal = 0;
  private inflatedTotal = 0;

  constructor(
    readonly limits: Readonly<InflateLimits>,
    private readonly signal?: AbortSignal,
  ) {}

  /** Throws the abort reason once the signal fired. */
  checkAborted(): void {
    if (this.signal?.aborted === true) throw abortError(this.signal);
  }

  /** Checks an archive's entry count before its directory is read. */
  entries(count: number): void {
    if (count > this.limits.maxEntries) throw unpackRefused(`archive has ${count} entries, over the limit of ${this.limits.maxEntries}`);
  }

  /** Checks one entry's declared sizes (and the running declared total) before it is inflated. */
  declare(compressed: number, inflated: number, what: string): void {
    this.checkRatio(compressed, inflated, what);
    this.declaredTotal += inflated;
    if (this.declaredTotal > this.limits.maxInflatedBytes) {
      throw unpackRefused(`archive declares more than ${bytes(this.limits.maxInflatedBytes)} unpacked, the limit`);
    }
  }

  /** Throws when `inflated` from `compressed` exceeds the ratio limit (above `ratioMinBytes`). */
  checkRatio(compressed: number, inflated: number, what: string): void {
    if (inflated <= this.limits.ratioMinBytes) return;
    if (inflated > this.limits.maxRatio * Math.max(compressed, 1)) {
      const ratio = Math.round(inflated / Math.max(compressed, 1));
      throw unpackRefused(`${what} compression ratio ${ratio}:1 is over the limit of ${this.limits.maxRatio}:1`);
    }
  }

  /** Counts `n` bytes actually inflated; throws when the archive's total passes the limit or the signal fired. */
  take(n: number): void {
    this.checkAborted();
    this.inflatedTotal += n;
    if (this.inflatedTotal > this.limits.maxInflatedBytes) {
      throw unpackRefused(`archive unpacks to more than ${bytes(this.limits.maxInflatedBytes)}, the limit`);
    }
  }

  /** Bytes inflated so far. */
  get inflated(): number {
    return this.inflatedTotal;
  }
}

/** The signal's reason as an error: a RegcacheError passes as is, anything else means shutdown. */
export function abortError(signal: AbortSignal): RegcacheError {
  const reason: unknown = signal.reason;
  if (reason instanceof RegcacheError) return reason;
  return new RegcacheError('ERR_SHUTTING_DOWN', 'unpacking aborted', { cause: reason });
}
