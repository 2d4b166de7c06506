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
 */

/** A held lease; keep it alive for as long as the fill runs. */
export interface Lease {
  release(): Promise<void>;
}

/** Outcome of asking to fill `key`. */
export type Claim = { kind: 'leader'; lease: Lease } | { kind: 'committed' } | { kind: 'uncoordinated' };

/** The contract for fleet-wide single-flight. */
export interface Coordinator {
  /**
   * Resolves as leader (go and fill), or once `isCommitted()` reports that
   * another replica committed the key, or 'uncoordinated' when the
   * coordinator is unavailable.
   */
  claim(key: string, isCommitted: () => Promise<boolean>, signal: AbortSignal): Promise<Claim>;
  close(): Promise<void>;
}
