/**
 * The digests a fill (or a bypass) computes while its bytes stream past.
 *
 * Invariants: sha256 is always computed (it names the stored object), plus
 * every algorithm the route listed; each is fed every chunk exactly once,
 * in order, so nothing is read twice and the digests cover exactly the
 * bytes that were streamed.
 */
import { createHash, type Hash } from 'node:crypto';
import type { DigestAlgorithm } from './route.js';

/** Running digests over one body. */
export class Digests {
  private readonly hashes = new Map<DigestAlgorithm, Hash>();

  constructor(algorithms: readonly DigestAlgorithm[] = []) {
    for (const alg of ['sha256', ...algorithms] as const) if (!this.hashes.has(alg)) this.hashes.set(alg, createHash(alg));
  }

  update(chunk: Uint8Array): void {
    for (const h of this.hashes.values()) h.update(chunk);
  }

  /** Lowercase hex of every algorithm; call once, at the end of the body. */
  finish(): { sha256: string } & Partial<Record<DigestAlgorithm, string>> {
    const out: Partial<Record<DigestAlgorithm, string>> = {};
    for (const [alg, h] of this.hashes) out[alg] = h.digest('hex');
    return { ...out, sha256: out.sha256 ?? '' };
  }
}
