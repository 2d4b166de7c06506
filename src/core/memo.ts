/**
 * Memoized answers composed from cached objects (`Cache.derived`) and the
 * stamps that say whether they still hold (also used by prepared answers).
 *
 * Invariants:
 * - Validity is tracked per namespace, the first '/'-separated segment of a
 *   key (`tf`, `file` …): a memo keyed under a namespace is reused only
 *   while nothing in that namespace changed in this process since its build
 *   started (stored, refreshed, committed, renewed, invalidated, forgotten),
 *   and for at most its maximum age. Changes in other namespaces never
 *   touch it, so a busy mode does not defeat another's memos.
 * - An answer whose build read a stale metadata copy of its namespace is
 *   never reused, so every request still triggers that copy's refresh.
 * - Failures are never memoized.
 */
import { ByteLru } from './lru.js';

/** When a memoized derived answer stops being valid. */
export interface MemoStamp {
  /** The namespace whose changes end it (see namespaceOf). */
  readonly namespace: string;
  readonly generation: number;
  readonly expiresAt: number;
}

/** The namespace of a cache key or memo key: its first '/'-separated segment. */
export function namespaceOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

/** The memo store and its validity bookkeeping. */
export interface Memo {
  /** What `key` reads as changed in this process (memos of its namespace lapse). */
  changed(key: string): void;
  /** A stale copy of `key` was served (answers of its namespace built meanwhile are not reused). */
  servedStale(key: string): void;
  derived<T>(key: string, maxAgeMs: number, build: () => Promise<{ value: T; cost: number; cacheable?: boolean }>): Promise<T>;
  derivedStamp(key: string, maxAgeMs: number): MemoStamp | undefined;
  isCurrent(stamp: MemoStamp): boolean;
}

interface Memoized {
  value: unknown;
  namespace: string;
  generation: number;
  at: number;
}

/** Creates an empty memo of at most `maxBytes`. */
export function createMemo(now: () => number, maxBytes: number): Memo {
  /** Per namespace: bumped whenever this process changes what a key of it reads as. */
  const generations = new Map<string, number>();
  /** Per namespace: stale metadata answers served (an answer composed from a stale input is not reused). */
  const staleServes = new Map<string, number>();
  const composed = new ByteLru<Memoized>(maxBytes);
  const bump = (counts: Map<string, number>, key: string): void => {
    const ns = namespaceOf(key);
    counts.set(ns, (counts.get(ns) ?? 0) + 1);
  };
  const stampOf = (memo: Memoized, maxAgeMs: number): MemoStamp => ({ namespace: memo.namespace, generation: memo.generation, expiresAt: memo.at + maxAgeMs });
  const isCurrent = (stamp: MemoStamp): boolean => stamp.generation === (generations.get(stamp.namespace) ?? 0) && now() < stamp.expiresAt;
  return {
    changed: (key) => bump(generations, key),
    servedStale: (key) => bump(staleServes, key),
    async derived<T>(key: string, maxAgeMs: number, build: () => Promise<{ value: T; cost: number; cacheable?: boolean }>): Promise<T> {
      const hit = composed.get(key);
      const t = now();
      if (hit && isCurrent(stampOf(hit, maxAgeMs))) return hit.value as T;
      const namespace = namespaceOf(key);
      const generation = generations.get(namespace) ?? 0;
      const stale = staleServes.get(namespace) ?? 0;
      const built = await build();
      if (built.cacheable !== false && (staleServes.get(namespace) ?? 0) === stale) {
        composed.set(key, { value: built.value, namespace, generation, at: t }, built.cost + key.length + 100);
      }
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
