/**
 * Turns a raw request target into decoded path segments, refusing anything
 * that could change meaning between layers: encoded slashes or backslashes,
 * NUL and control bytes, dot segments, empty segments, overlong input.
 * One exception, the scoped-name form of npm-style registries: a segment
 * `@scope%2Fname` (one encoded slash after a leading `@`, both parts plain
 * segments) means exactly `@scope/name` and is split into those two
 * segments, so every layer sees the same two segments either way.
 */
import { RegcacheError } from '../core/errors.js';

const MAX_TARGET = 2048;
const MAX_SEGMENT = 255;

/** Decoded, checked segments of the request path (query dropped). */
export function parseRequestPath(target: string | undefined): string[] {
  if (!target || target.length > MAX_TARGET) throw new RegcacheError('ERR_BAD_REQUEST', 'request target missing or too long');
  if (!target.startsWith('/')) throw new RegcacheError('ERR_BAD_REQUEST', 'request target must be a path');
  const path = target.split('?', 1)[0] ?? '';
  if (path === '/') return [];
  const raw = path.slice(1).split('/');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.flatMap(scopedName).map((seg) => {
    let s: string;
    try {
      s = decodeURIComponent(seg);
    } catch {
      throw new RegcacheError('ERR_BAD_REQUEST', 'malformed percent-encoding');
    }
    // eslint-disable-next-line no-control-regex
    if (s === '' || s === '.' || s === '..' || s.length > MAX_SEGMENT || /[/\\\u0000-\u001f\u007f]/.test(s)) {
      throw new RegcacheError('ERR_BAD_REQUEST', 'invalid path segment');
    }
    return s;
  });
}

/** `@scope%2Fname` → ['@scope', 'name'] (still checked as segments by the caller); any other segment as is. */
function scopedName(seg: string): string[] {
  const m = /^(@[^%/]+)%2[fF]([^%/]+)$/.exec(seg);
  return m ? [m[1] ?? '', m[2] ?? ''] : [seg];
}
