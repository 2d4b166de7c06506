/**
 * A byte-bounded cache for hot metadata bodies, evicting in approximately
 * least-recently-used order ("second chance"): a read only marks its entry,
 * so the hit path is one Map lookup, and eviction walks from the oldest
 * insertion, moving marked entries to the back once instead of dropping them.
 */

interface Entry<V> {
  value: V;
  cost: number;
  used: boolean;
}

/** Bounded in-memory cache; `cost` of each entry counts against `maxBytes`. */
export class ByteLru<V> {
  private readonly map = new Map<string, Entry<V>>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** The value, marked as used (it survives the next eviction pass). */
  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    e.used = true;
    return e.value;
  }

  /** The value without marking it. */
  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  set(key: string, value: V, cost: number): void {
    this.delete(key);
    if (cost > this.maxBytes) return;
    this.map.set(key, { value, cost, used: false });
    this.total += cost;
    // Each marked entry is moved back once (its mark cleared) and the new one
    // is never dropped (it fits alone), so the walk ends.
    for (const [k, e] of this.map) {
      if (this.total <= this.maxBytes) break;
      this.map.delete(k);
      if (e.used || k === key) {
        e.used = false;
        this.map.set(k, e);
      } else {
        this.total -= e.cost;
      }
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.total -= e.cost;
  }

  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  get bytes(): number {
    return this.total;
  }
}
