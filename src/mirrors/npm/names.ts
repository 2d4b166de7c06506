/**
 * npm request paths, checked before anything else happens: a package name
 * (`name` or `@scope/name`, the core splits `@scope%2Fname` into the same
 * two segments), a tarball `<name>/-/<file>.tgz`, dist-tags
 * `-/package/<name>/dist-tags`, and the registry's other `-/` endpoints
 * (search, audit, login …), which this mirror does not serve. Names follow
 * the rules npm applies (validate-npm-package-name): URL-safe characters,
 * no leading dot or underscore, at most 214 characters, lowercase scopes
 * and scoped names; an unscoped name may have capitals, as the registry's
 * older packages do (`JSONStream`). Anything else is refused (400) before
 * any upstream request.
 * Store keys live under `npm/<instance>/<name>/`, which is also the
 * package's privacy scope.
 */
import { RegcacheError } from '../../core/errors.js';
import { decodeKeySegment, encodeKeySegment } from '../../core/keys.js';
import { assertKey } from '../../core/store.js';

/** The longest package name npm accepts. */
const MAX_NAME = 214;
const PART = /^[a-z0-9~-][a-z0-9._~-]*$/;
/** Unscoped names published before npm required lowercase. */
const OLD_NAME = /^[A-Za-z0-9~-][A-Za-z0-9._~-]*$/;
const FILE = /^[A-Za-z0-9~][A-Za-z0-9._~+-]*\.tgz$/;

/** What a request below the mount asks for. */
export type NpmRequest =
  | { kind: 'packument'; name: string }
  | { kind: 'tarball'; name: string; file: string }
  | { kind: 'dist-tags'; name: string }
  | { kind: 'ping' }
  | { kind: 'unsupported'; what: string };

const bad = (why: string): RegcacheError => new RegcacheError('ERR_BAD_REQUEST', why);

/** Checks a package name (from its one or two segments); throws ERR_BAD_REQUEST. */
export function checkName(parts: readonly string[]): string {
  const name = parts.join('/');
  if (name.length === 0 || name.length > MAX_NAME) throw bad('invalid package name: empty or longer than 214 characters');
  if (parts.length === 2) {
    const scope = parts[0] ?? '';
    if (!scope.startsWith('@') || !PART.test(scope.slice(1))) throw bad('invalid package scope');
    if (!PART.test(parts[1] ?? '')) throw bad('invalid package name');
  } else if (parts.length !== 1 || !OLD_NAME.test(name) || name === 'node_modules' || name === 'favicon.ico') {
    throw bad('invalid package name (npm names are URL-safe, without a leading dot or underscore)');
  }
  return name;
}

/** Splits the segments below the mount into a request; throws ERR_BAD_REQUEST for a hostile or malformed path. */
export function parseNpmRequest(segments: readonly string[]): NpmRequest {
  const [first, ...rest] = segments;
  if (first === undefined) throw new RegcacheError('ERR_NOT_FOUND', 'name a package below this path');
  if (first === '-') {
    if (rest.length === 1 && rest[0] === 'ping') return { kind: 'ping' };
    if (rest[0] === 'package' && rest[rest.length - 1] === 'dist-tags' && (rest.length === 3 || rest.length === 4)) {
      return { kind: 'dist-tags', name: checkName(rest.slice(1, -1)) };
    }
    return { kind: 'unsupported', what: rest.slice(0, 3).join('/') };
  }
  const nameParts = first.startsWith('@') ? segments.slice(0, 2) : [first];
  const name = checkName(nameParts);
  const tail = segments.slice(nameParts.length);
  if (tail.length === 0) return { kind: 'packument', name };
  if (tail.length === 2 && tail[0] === '-') {
    const file = tail[1] ?? '';
    if (!FILE.test(file) || file.length > 255) throw bad('invalid tarball file name');
    return { kind: 'tarball', name, file };
  }
  throw new RegcacheError('ERR_NOT_FOUND', 'this mirror serves packuments, dist-tags and tarballs only');
}

/** The key prefix of an instance. */
export function instancePrefix(instance: string): string {
  return `npm/${instance}/`;
}

/** The key prefix (and privacy scope) of one package. */
export function packageScope(instance: string, name: string): string {
  return `${instancePrefix(instance)}${encodeKeySegment(name)}`;
}

/** The packument key of a representation (`full` or `corgi`). */
export function packumentKey(instance: string, name: string, repr: 'full' | 'corgi'): string {
  const key = `${packageScope(instance, name)}/packument/${repr}`;
  assertKey(key);
  return key;
}

/** The tarball key. */
export function tarballKey(instance: string, name: string, file: string): string {
  const key = `${packageScope(instance, name)}/tgz/${encodeKeySegment(file)}`;
  assertKey(key);
  return key;
}

/** The package and tarball a key of this instance names, when it is a tarball key. */
export function tarballOfKey(instance: string, key: string): { name: string; file: string } | undefined {
  const head = instancePrefix(instance);
  if (!key.startsWith(head)) return undefined;
  const parts = key.slice(head.length).split('/');
  if (parts.length !== 3 || parts[1] !== 'tgz') return undefined;
  try {
    return { name: decodeKeySegment(parts[0] ?? ''), file: decodeKeySegment(parts[2] ?? '') };
  } catch {
    return undefined;
  }
}

/** The path of a package below the upstream base (`/@scope%2fname`, as npm clients send it). */
export function upstreamPackagePath(name: string): string {
  return `/${name.replace('/', '%2f')}`;
}
