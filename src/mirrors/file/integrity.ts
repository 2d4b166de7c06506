/**
 * What an upstream says about the bytes it sends, and the check of a
 * finished download against it. An arbitrary file has no signed index, so
 * this is all there is to verify: the announced Content-Length, and a
 * sha-256 / sha-512 digest when the upstream sends one (`Repr-Digest` /
 * `Content-Digest` of RFC 9530, `Digest` of RFC 3230, Artifactory's
 * `X-Checksum-Sha256`). A mismatch refuses the bytes: nothing is stored.
 * A digest value that cannot be read counts as absent.
 */
import { RegcacheError } from '../../core/errors.js';
import type { FillSummary } from '../../core/route.js';

/** The digest algorithms an upstream header can name that regcache checks. */
export type AnnouncedAlgorithm = 'sha256' | 'sha512';

/** An upstream's claims about one body. */
export interface Announced {
  /** Content-Length, when sent. */
  size: number | undefined;
  /** Lowercase hex values per algorithm (several headers may each name one). */
  digests: Partial<Record<AnnouncedAlgorithm, string[]>>;
}

type Headers = Record<string, string | string[] | undefined>;

const BYTES: Record<AnnouncedAlgorithm, number> = { sha256: 32, sha512: 64 };

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function algorithm(name: string): AnnouncedAlgorithm | undefined {
  const n = name.trim().toLowerCase();
  if (n === 'sha-256' || n === 'sha256') return 'sha256';
  if (n === 'sha-512' || n === 'sha512') return 'sha512';
  return undefined;
}

/** A base64 (or, as some servers send, hex) digest value as lowercase hex, if it has the algorithm's length. */
function toHex(value: string, alg: AnnouncedAlgorithm): string | undefined {
  const v = value.trim();
  if (v.length === BYTES[alg] * 2 && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return undefined;
  const bytes = Buffer.from(v, 'base64');
  return bytes.length === BYTES[alg] ? bytes.toString('hex') : undefined;
}

/** Entries of an RFC 9530 dictionary (`sha-256=:b64:, sha-512=:b64:`) or an RFC 3230 list (`SHA-256=b64`). */
function entries(text: string | undefined): Array<[string, string]> {
  if (!text) return [];
  const out: Array<[string, string]> = [];
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const value = part.slice(eq + 1).split(';')[0]?.trim() ?? '';
    out.push([part.slice(0, eq), value.replace(/^:(.*):$/, '$1')]);
  }
  return out;
}

/**
 * Reads an upstream answer's claims. Representation digests (Repr-Digest,
 * Digest, X-Checksum-Sha256) describe the decoded file, so they count only
 * when the answer has no content coding; Content-Digest describes the bytes
 * as sent and always counts.
 */
export function announcedBy(headers: Headers, size: number | undefined): Announced {
  const out: Announced = { size, digests: {} };
  const coding = header(headers, 'content-encoding')?.trim().toLowerCase();
  const identity = coding === undefined || coding === '' || coding === 'identity';
  const found: Array<[string, string]> = [...entries(header(headers, 'content-digest'))];
  if (identity) {
    found.push(...entries(header(headers, 'repr-digest')), ...entries(header(headers, 'digest')));
    const xs = header(headers, 'x-checksum-sha256');
    if (xs) found.push(['sha-256', xs]);
  }
  for (const [name, value] of found) {
    const alg = algorithm(name);
    const hex = alg && toHex(value, alg);
    if (!alg || !hex) continue;
    (out.digests[alg] ??= []).push(hex);
  }
  return out;
}

/** The algorithms a fill must compute to check these claims. */
export function algorithmsFor(a: Announced | undefined): AnnouncedAlgorithm[] {
  return a ? (Object.keys(a.digests) as AnnouncedAlgorithm[]) : [];
}

/** Throws when a finished download disagrees with what the upstream announced. */
export function checkAnnounced(a: Announced, summary: FillSummary): void {
  if (a.size !== undefined && summary.size !== a.size) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `upstream announced ${a.size} bytes and sent ${summary.size}`);
  }
  for (const alg of algorithmsFor(a)) {
    const got = summary.digests[alg] ?? (alg === 'sha256' ? summary.sha256 : undefined);
    if (got === undefined) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `${alg} announced by upstream was not computed`);
    if ((a.digests[alg] ?? []).some((want) => want !== got)) {
      throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `file bytes do not match the ${alg} digest upstream announced`);
    }
  }
}
