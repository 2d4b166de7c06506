/**
 * Names and keys of the `pypi` mode. Project names are checked against the
 * PEP 508 name grammar and normalized per PEP 503 (lowercase, runs of
 * `-_.` → `-`); file names are one plain path component from a small
 * alphabet. Keys: `pypi/<instance>/<project>/index` (the normalized
 * project index), `…/json` (the `/pypi/<name>/json` answer) and
 * `…/files/<filename>` (files and their `.metadata` sidecars), so a
 * project is one key prefix for purges.
 */
import { RegcacheError } from '../../core/errors.js';
import { decodeKeySegment, encodeKeySegment } from '../../core/keys.js';
import { assertKey } from '../../core/store.js';

const PROJECT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$/;
const FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+!~-]{0,254}$/;

/** The PEP 503 normalized form of a project name. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Whether `name` is a project name at all (PEP 508). */
export function validProjectName(name: string): boolean {
  return PROJECT.test(name);
}

/** Checks a requested project name; throws ERR_BAD_REQUEST before any upstream request. */
export function checkProjectName(name: string): string {
  if (!validProjectName(name)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid project name');
  return name;
}

/** Whether `name` can be a distribution (or sidecar) file name served here. */
export function validFilename(name: string): boolean {
  return FILENAME.test(name) && !name.includes('..');
}

/** Checks a requested file name; throws ERR_BAD_REQUEST. */
export function checkFilename(name: string): string {
  if (!validFilename(name)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid file name');
  return name;
}

/** The key prefix of an instance. */
export function instancePrefix(instance: string): string {
  return `pypi/${instance}/`;
}

/** The key prefix of one (normalized) project. */
export function projectPrefix(instance: string, project: string): string {
  return `${instancePrefix(instance)}${encodeKeySegment(project)}/`;
}

function checked(key: string): string {
  assertKey(key);
  return key;
}

/** Key of a project's normalized index. */
export function indexKey(instance: string, project: string): string {
  return checked(`${projectPrefix(instance, project)}index`);
}

/** Key of a project's `/pypi/<name>/json` answer. */
export function projectJsonKey(instance: string, project: string): string {
  return checked(`${projectPrefix(instance, project)}json`);
}

/** Key of a file (or a file's `.metadata` sidecar). */
export function fileKey(instance: string, project: string, filename: string): string {
  return checked(`${projectPrefix(instance, project)}files/${encodeKeySegment(filename)}`);
}

/** The project and file name a file key stands for, or undefined. */
export function fileOfKey(instance: string, key: string): { project: string; filename: string } | undefined {
  const head = instancePrefix(instance);
  if (!key.startsWith(head)) return undefined;
  const parts = key.slice(head.length).split('/');
  if (parts.length !== 3 || parts[1] !== 'files') return undefined;
  try {
    return { project: decodeKeySegment(parts[0] ?? ''), filename: decodeKeySegment(parts[2] ?? '') };
  } catch {
    return undefined;
  }
}
