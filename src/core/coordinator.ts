/**
 * Cross-process single-flight. In-process fills are already collapsed by the
 * cache; a Coordinator extends that across replicas sharing one store: one
 * replica (the leader) downloads, the others wait until the object is
 * committed and then serve it from the store.
 *
 * Invariants: coordination is an optimization, never a correctness
 * requirement — if the coordinator is unreachable, every replica fills on
 * its own (the store's atomic commit keeps the object whole). A waiting
 * replica gives up waiting when the leader's lease lapses without a commit
 * and tries to lead itself.
 *
 * Between the worker processes of one host (`server.workers`), a claim can
 * also answer 'remote': another worker is downloading the key right now. The
 * fill then reads that worker's bytes as they land (one stream per worker)
 * instead of upstream, so clients of every worker stream from one download.
 */
import type { Readable } from 'node:stream';

/** A held lease; keep it alive for as long as the fill runs. */
export interface Lease {
  release(): Promise<void>;
}

/** A fill another process of this host runs, as a stream of its bytes. */
export interface RemoteBody {
  /** Full object size, when the leader knows it. */
  size: number | undefined;
  /** The bytes as the leader releases them (its last ones only once verified and committed). */
  body: Readable;
}

/**
 * A fill running in another process of this host, followed over a local
 * socket. `open` resolves undefined when that fill is over (committed or
 * failed): the caller then looks in the store.
 */
export interface RemoteFill {
  open(signal: AbortSignal): Promise<RemoteBody | undefined>;
}

/** Outcome of asking to fill `key`. */
export type Claim = { kind: 'leader'; lease: Lease } | { kind: 'committed' } | { kind: 'uncoordinated' } | { kind: 'remote'; remote: RemoteFill };

/** The contract for fleet-wide single-flight. */
export interface Coordinator {
  /**
   * Resolves as leader (go and fill), or once `isCommitted()` reports that
   * another replica committed the key, or 'uncoordinated' when the
   * coordinator is unavailable.
   */
  claim(key: string, isCommitted: () => Promise<boolean>, signal: AbortSignal): Promise<Claim>;
  /** Tells the other processes of this host that `key` was dropped; resolves once they forgot what they remember of it. */
  forgotten?(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The worker processes of one host (`local`) in front of a fleet-wide
 * coordinator (`fleet`, Redis): a worker that leads on its host then claims
 * fleet-wide; the other workers of the host follow it.
 */
export function layered(local: Coordinator, fleet: Coordinator): Coordinator {
  return {
    async claim(key, isCommitted, signal) {
      const here = await local.claim(key, isCommitted, signal);
      if (here.kind === 'remote' || here.kind === 'committed') return here;
      const there = await fleet.claim(key, isCommitted, signal);
      if (here.kind === 'uncoordinated') return there;
      const fleetLease = there.kind === 'leader' ? there.lease : undefined;
      // Still the host's leader: the fill adopts another replica's commit, or downloads.
      return {
        kind: 'leader',
        lease: {
          async release() {
            await fleetLease?.release();
            await here.lease.release();
          },
        },
      };
    },
    forgotten: async (key) => local.forgotten?.(key),
    async close() {
      await Promise.all([local.close(), fleet.close()]);
    },
  };
}
