/**
 * Key segments for names that come from upstream (`@scope/name`,
 * `sha256:abc`, `1.0~rc1`, unicode): `encodeKeySegment` maps any such name
 * reversibly into the segment alphabet `assertKey` accepts, so modes never
 * hand-roll escaping. assertKey stays the last line of defence.
 *
 * Invariants:
 * - One name, one segment: decoding accepts only the canonical encoding
 *   (it re-encodes and compares), so two spellings never name one object.
 * - Every encoded segment passes assertKey: it starts with [A-Za-z0-9_],
 *   uses only [A-Za-z0-9._+@=-], never contains '..', and is at most
 *   MAX_SEGMENT characters.
 *
 * Two forms, chosen deterministically:
 * - escaped (readable, preferred): UTF-8 bytes, those outside
 *   [A-Za-z0-9_.+@-] written `=HH` (upper-case hex), as is a '.' right after
 *   a '.'; a first byte outside [A-Za-z0-9] is escaped behind a '_' marker
 *   ("_=2E" for a leading '.'), so an escaped segment starts with '_' only
 *   as "_=".
 * - compact, when the escaped form is longer than MAX_SEGMENT: "__" and
 *   the base64url of the bytes (no padding); any name up to 148 UTF-8 bytes
 *   fits. Longer names are refused.
 */
import { RegcacheError } from './errors.js';

/** Longest segment assertKey accepts. */
const MAX_SEGMENT = 200;
const PLAIN = /^[A-Za-z0-9_.+@-]$/;
const LEAD = /^[A-Za-z0-9]$/;
const COMPACT = '__';

const hex = (b: number): string => `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
const refuse = (why: string): RegcacheError => new RegcacheError('ERR_BAD_REQUEST', `invalid name for a cache key: ${why}`);

/** The escaped form of `bytes`. */
function escaped(bytes: Buffer): string {
  let out = '';
  for (const [i, b] of bytes.entries()) {
    const c = String.fromCharCode(b);
    if (i === 0) out += LEAD.test(c) ? c : `_${hex(b)}`;
    else if (!PLAIN.test(c) || (c === '.' && out.endsWith('.'))) out += hex(b);
    else out += c;
  }
  return out;
}

/** Encodes a non-empty name as one key segment; throws ERR_BAD_REQUEST when it cannot be one. */
export function encodeKeySegment(name: string): string {
  if (name === '') throw refuse('empty');
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.toString('utf8') !== name) throw refuse('not well-formed unicode');
  const plain = escaped(bytes);
  if (plain.length <= MAX_SEGMENT) return plain;
  const compact = COMPACT + bytes.toString('base64url');
  if (compact.length <= MAX_SEGMENT) return compact;
  throw refuse('too long');
}

/** The name `encodeKeySegment` encoded as `segment`; throws ERR_BAD_REQUEST for anything else. */
export function decodeKeySegment(segment: string): string {
  let bytes: Buffer;
  if (segment.startsWith(COMPACT)) {
    bytes = Buffer.from(segment.slice(COMPACT.length), 'base64url');
  } else {
    const body = segment.startsWith('_') ? segment.slice(1) : segment;
    const out: number[] = [];
    for (let i = 0; i < body.length; i++) {
      if (body[i] !== '=') {
        out.push(body.charCodeAt(i));
        continue;
      }
      const h = body.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(h)) throw refuse('bad escape');
      out.push(Number.parseInt(h, 16));
      i += 2;
    }
    bytes = Buffer.from(out);
  }
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw refuse('not UTF-8');
  }
  // Only the canonical spelling decodes: one name, one segment.
  if (name === '' || encodeKeySegment(name) !== segment) throw refuse('not a canonical encoding');
  return name;
}
