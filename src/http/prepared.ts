/**
 * Prepared answers: the hot path for repeated metadata requests. When an
 * adapter marks a body answer as reusable (a public answer composed from the
 * cache, see `BodyAnswer.reuse`), the handler keeps the finished response
 * (status, headers, body) under the exact request (method, base URL, raw
 * target) and sends it again without parsing, routing or composing, for as
 * long as the cache says the memo it came from holds. A request that differs
 * in any byte of its target takes the full path, so only targets that the
 * full path already accepted are ever replayed. Targets with a query string
 * are never prepared.
 */
import type { MemoStamp } from '../core/cache.js';
import { ByteLru } from '../core/lru.js';

/** A finished response that may be sent again. */
export interface PreparedAnswer {
  /** Mirror name, for logs and metrics. */
  route: string;
  /** The instance whose mirror answered (metrics label). */
  instance?: string;
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  stamp: MemoStamp;
}

/** A bounded map of prepared answers, dropped as soon as their stamp lapses. */
export class PreparedAnswers {
  private readonly lru: ByteLru<PreparedAnswer>;

  constructor(
    maxBytes: number,
    private readonly isCurrent: (stamp: MemoStamp) => boolean,
  ) {
    this.lru = new ByteLru(maxBytes);
  }

  /** The key of a request: everything the answer may depend on besides the cache. */
  static key(method: string, baseUrl: string, target: string): string {
    return `${method} ${baseUrl} ${target}`;
  }

  /** The prepared answer for `key` if its memo still holds. */
  get(key: string): PreparedAnswer | undefined {
    const p = this.lru.get(key);
    if (p === undefined) return undefined;
    if (this.isCurrent(p.stamp)) return p;
    this.lru.delete(key);
    return undefined;
  }

  set(key: string, answer: PreparedAnswer): void {
    this.lru.set(key, answer, answer.body.length + key.length + 300);
  }

  get bytes(): number {
    return this.lru.bytes;
  }
}
