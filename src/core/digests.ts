/**
 * The digests a fill computes while its bytes stream past: sha256 always
 * (it names the stored object), plus whatever the route asked for, each fed
 * every chunk exactly once so nothing is read twice.
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
