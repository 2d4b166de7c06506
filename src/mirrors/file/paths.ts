/**
 * A requested file path, checked once: the glob path rules see, the store
 * key (`file/<instance>/<segments, each encodeKeySegment'd>`) and the path
 * sent to every upstream. Anything that could change meaning between
 * layers (dot segments, slashes or control bytes inside a segment, paths
 * deeper or longer than a key can hold) is refused here, before any
 * upstream is contacted.
 */
import { RegcacheError } from '../../core/errors.js';
import { decodeKeySegment, encodeKeySegment } from '../../core/keys.js';
import { assertKey } from '../../core/store.js';

/** Key segments before the path: `file` and the instance name. */
const KEY_HEAD = 2;
/** assertKey's limit on key segments. */
const MAX_KEY_SEGMENTS = 16;
const MAX_SEGMENT = 255;

/** A validated file request path. */
export interface FilePath {
  /** "releases/v1/tool.zip": what rules match, what listings show. */
  readonly path: string;
  readonly key: string;
  /** "/releases/v1/tool.zip", percent-encoded, appended to an upstream base URL. */
  readonly upstreamPath: string;
}

/** The key prefix of an instance's files. */
export function instancePrefix(instance: string): string {
  return `file/${instance}/`;
}

/** Percent-encodes a segment as Go's url.PathEscape does (cache-proxy's upstream paths): `$&+:=@` stay. */
function escapeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%(24|26|2B|3A|3D|40)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Refuses a segment that is not one plain path component. */
function checkSegment(s: string): void {
  // eslint-disable-next-line no-control-regex
  if (s === '' || s === '.' || s === '..' || s.length > MAX_SEGMENT || /[/\\\u0000-\u001f\u007f]/.test(s)) {
    throw new RegcacheError('ERR_BAD_REQUEST', 'invalid path segment');
  }
}

/** Validates decoded request segments (below the mount) into a FilePath; throws ERR_BAD_REQUEST. */
export function filePath(instance: string, segments: readonly string[]): FilePath {
  if (segments.length === 0) throw new RegcacheError('ERR_BAD_REQUEST', 'name a file below this path');
  if (segments.length > MAX_KEY_SEGMENTS - KEY_HEAD) throw new RegcacheError('ERR_BAD_REQUEST', `file paths are at most ${MAX_KEY_SEGMENTS - KEY_HEAD} segments deep`);
  for (const s of segments) checkSegment(s);
  const key = instancePrefix(instance) + segments.map(encodeKeySegment).join('/');
  assertKey(key);
  return { path: segments.join('/'), key, upstreamPath: `/${segments.map(escapeSegment).join('/')}` };
}

/** The key prefix covering a directory (its segments validated as a path); the whole instance for none. */
export function directoryPrefix(instance: string, segments: readonly string[]): string {
  if (segments.length === 0) return instancePrefix(instance);
  return `${filePath(instance, segments).key}/`;
}

/** The file path a key of this instance stands for, or undefined when it is not one. */
export function pathOfKey(instance: string, key: string): string | undefined {
  const head = instancePrefix(instance);
  if (!key.startsWith(head)) return undefined;
  try {
    return key.slice(head.length).split('/').map(decodeKeySegment).join('/');
  } catch {
    return undefined;
  }
}
