/**
 * Crate names, versions, sparse index paths and store keys, checked once.
 * A sparse index file lives at `1/<n>`, `2/<n>`, `3/<c>/<n>` or
 * `<ab>/<cd>/<name>` (the name lower-cased, the directories its first
 * characters); any other shape, a name outside the registry alphabet, an
 * upper-case path or a version that is not semver is refused here, before
 * any upstream is contacted. Keys:
 * - `cargo/<instance>/config/json`: the upstream config.json (scope `…/config`);
 * - `cargo/<instance>/c/<name>/index`: a crate's index file (scope `…/c/<name>`);
 * - `cargo/<instance>/c/<name>/v/<version>`: a `.crate` file.
 * A scope's privacy marker is `<scope>/private` (src/access/scope-privacy.ts).
 */
import semver from 'semver';
import { RegcacheError } from '../../core/errors.js';
import { decodeKeySegment, encodeKeySegment } from '../../core/keys.js';
import { assertKey } from '../../core/store.js';

/** Registry crate names: ASCII letters, digits, `-` and `_`, not starting with a digit or `-`, at most 64 characters. */
const CRATE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const MAX_VERSION = 128;
/** Semver as the index writes it: pre-release and build metadata kept (`300.1.0+3.1.0`), no `v`, no spaces. */
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

const bad = (why: string): RegcacheError => new RegcacheError('ERR_BAD_REQUEST', why);

/** The key prefix of an instance. */
export function instancePrefix(instance: string): string {
  return `cargo/${instance}/`;
}

/** Throws ERR_BAD_REQUEST unless `name` is a registry crate name. */
export function checkCrateName(name: string): string {
  if (!CRATE_NAME.test(name)) throw bad('invalid crate name');
  return name;
}

/** Throws ERR_BAD_REQUEST unless `version` is a semver version (as the index writes it). */
export function checkVersion(version: string): string {
  if (version.length > MAX_VERSION || !VERSION.test(version) || semver.parse(version)?.raw !== version) throw bad('invalid crate version');
  return version;
}

/** The index directory of a name, as cargo computes `{prefix}` (case kept). */
export function indexPrefix(name: string): string {
  if (name.length === 1) return '1';
  if (name.length === 2) return '2';
  if (name.length === 3) return `3/${name.slice(0, 1)}`;
  return `${name.slice(0, 2)}/${name.slice(2, 4)}`;
}

/** The lower-case crate name a sparse index path names; throws ERR_BAD_REQUEST for anything else. */
export function nameOfIndexPath(segments: readonly string[]): string {
  const name = segments[segments.length - 1] ?? '';
  checkCrateName(name);
  if (name !== name.toLowerCase()) throw bad('sparse index paths are lower-case');
  if (segments.slice(0, -1).join('/') !== indexPrefix(name)) throw bad('not a sparse index path');
  return name;
}

/** The privacy scope of a crate (its index file and every version). */
export function crateScope(instance: string, lname: string): string {
  return `${instancePrefix(instance)}c/${encodeKeySegment(lname)}`;
}

/** The privacy scope of the upstream config.json. */
export function configScope(instance: string): string {
  return `${instancePrefix(instance)}config`;
}

/** The key of the upstream config.json. */
export function configKey(instance: string): string {
  return `${configScope(instance)}/json`;
}

/** The key of a crate's index file. */
export function indexKey(instance: string, lname: string): string {
  const key = `${crateScope(instance, lname)}/index`;
  assertKey(key);
  return key;
}

/** The key of a `.crate` file. */
export function crateKey(instance: string, lname: string, version: string): string {
  const key = `${crateScope(instance, lname)}/v/${encodeKeySegment(version)}`;
  assertKey(key);
  return key;
}

/** The crate and version a key of this instance stores, when it is a `.crate` key. */
export function crateOfKey(instance: string, key: string): { name: string; version: string } | undefined {
  const rest = key.startsWith(instancePrefix(instance)) ? key.slice(instancePrefix(instance).length).split('/') : [];
  if (rest.length !== 4 || rest[0] !== 'c' || rest[2] !== 'v') return undefined;
  try {
    return { name: decodeKeySegment(rest[1] ?? ''), version: decodeKeySegment(rest[3] ?? '') };
  } catch {
    return undefined;
  }
}
