/**
 * SHA256SUMS documents published next to provider releases. The signature
 * covers this text, so every artifact we serve must be checked against the
 * digest it lists; parsing is strict because a lenient parser could be
 * tricked into trusting a line the signer never meant.
 */
import { RegcacheError } from '../../core/errors.js';

const LINE = /^([0-9a-fA-F]{64})(?: {2}| \*)(.+)$/;

/**
 * Parses SHA256SUMS text into filename → lowercase hex digest. Blank lines
 * are ignored; any other malformed line, or one filename listed with two
 * different digests, rejects the whole document.
 */
export function parseShasums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    const hex = match?.[1];
    const filename = match?.[2];
    if (hex === undefined || filename === undefined) {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `SHA256SUMS line ${index + 1} is malformed`);
    }
    const digest = hex.toLowerCase();
    const previous = sums.get(filename);
    if (previous !== undefined && previous !== digest) {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `SHA256SUMS line ${index + 1} repeats a filename with another digest`);
    }
    sums.set(filename, digest);
  }
  return sums;
}

/**
 * The digest SHA256SUMS lists for one artifact. An artifact missing from a
 * signed list cannot be verified, so that is an upstream error, not a skip.
 */
export function expectedShasum(sums: ReadonlyMap<string, string>, filename: string): string {
  const digest = sums.get(filename);
  if (digest === undefined) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `SHA256SUMS has no entry for ${filename}`);
  }
  return digest;
}
