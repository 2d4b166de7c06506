/**
 * Memoized answers composed from cached objects (`Cache.derived`) and the
 * stamps that say whether they still hold (also used by prepared answers).
 *
 * Invariants:
 * - A memo is reused only while nothing it may have read changed in this
 *   process since its build started, and for at most its maximum age.
 * - An answer whose build read a stale metadata copy is never reused, so
 *   every request still triggers that copy's refresh.
 * - Failures are never memoized.
 */
import { ByteLru } from './lru.js';

/** When a memoized derived answer stops being valid. */
export interface MemoStamp {
  readonly generation: number;
  readonly expiresAt: number;
}

/** The memo store and its validity bookkeeping. */
export interface Memo {
  /** What `key` reads as changed in this process. */
  changed(key: string): void;
  /** A stale copy of `key` was served (answers built meanwhile are not reused). */
  servedStale(key: string): void;
  derived<T>(key: string, maxAgeMs: number, build: () => Promise<{ value: T; cost: number; cacheable?: boolean }>): Promise<T>;
  derivedStamp(key: string, maxAgeMs: number): MemoStamp | undefined;
  isCurrent(stamp: MemoStamp): boolean;
}

/** Creates an empty memo of at most `maxBytes`. */
export function createMemo(now: () => number, maxBytes: number): Memo {
  /** Bumped whenever this process changes what a cached key reads as. */
  let generation = 0;
  /** Counts stale metadata answers: an answer composed from a stale input is not reused (its refresh must run). */
  let staleServes = 0;
  const composed = new ByteLru<{ value: unknown; generation: number; at: number }>(maxBytes);
  const stampOf = (memo: { generation: number; at: number }, maxAgeMs: number): MemoStamp => ({ generation: memo.generation, expiresAt: memo.at + maxAgeMs });
  const isCurrent = (stamp: MemoStamp): boolean => stamp.generation === generation && now() < stamp.expiresAt;
  return {
    changed() {
      generation++;
    },
    servedStale() {
      staleServes++;
    },
    async derived<T>(key: string, maxAgeMs: number, build: () => Promise<{ value: T; cost: number; cacheable?: boolean }>): Promise<T> {
      const hit = composed.get(key);
      const t = now();
      if (hit && isCurrent(stampOf(hit, maxAgeMs))) return hit.value as T;
      const gen = generation;
      const stale = staleServes;
      const built = await build();
      if (built.cacheable !== false && staleServes === stale) composed.set(key, { value: built.value, generation: gen, at: t }, built.cost + key.length + 100);
      return built.value;
    },
    derivedStamp(key, maxAgeMs) {
      const hit = composed.peek(key);
      const stamp = hit && stampOf(hit, maxAgeMs);
      return stamp && isCurrent(stamp) ? stamp : undefined;
    },
    isCurrent,
  };
}
