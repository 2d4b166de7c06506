/**
 * The normalized project index: what regcache stores for a project,
 * whichever representation upstream sent (PEP 503 HTML or PEP 691 JSON),
 * and renders as either for its clients. Each file keeps its absolute
 * origin URL (looked up when a client asks for the file: only URLs the
 * index named are ever fetched), its sha256, requires-python, yanked and
 * core-metadata. Entries that cannot be served safely (no http(s) URL,
 * user-info, an odd file name) are dropped here, once.
 */
import { RegcacheError } from '../../core/errors.js';
import { validFilename } from './names.js';

/** One distribution file of a project. */
export interface IndexFile {
  filename: string;
  /** Absolute http(s) URL at the origin, without fragment. */
  url: string;
  /** Lowercase hex sha256, when the index gave one. */
  sha256?: string;
  requiresPython?: string;
  /** true, or the reason given. */
  yanked?: true | string;
  /** A `.metadata` sidecar exists: true, or its sha256 (lowercase hex). */
  coreMetadata?: true | string;
  size?: number;
  uploadTime?: string;
}

/** A project's index as stored. */
export interface ProjectIndex {
  /** Normalized project name. */
  name: string;
  files: IndexFile[];
  /** PEP 700 versions, when upstream listed them. */
  versions?: string[];
}

const MAX_FILES = 100_000;
const SHA256 = /^[0-9a-f]{64}$/;

/** An absolute http(s) URL without user-info or fragment, resolved against `base`; undefined when there is none. */
export function originUrl(href: string, base: string): string | undefined {
  let u: URL;
  try {
    u = new URL(href, base);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username !== '' || u.password !== '') return undefined;
  u.hash = '';
  return u.href.length <= 4096 ? u.href : undefined;
}

/** A lowercase sha256 hex from an untrusted value. */
export function sha256Of(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.toLowerCase();
  return SHA256.test(v) ? v : undefined;
}

/** Adds `f` unless its file name is taken or invalid; returns false once the list is full. */
export function addFile(files: IndexFile[], seen: Set<string>, f: IndexFile): boolean {
  if (files.length >= MAX_FILES) return false;
  if (!validFilename(f.filename) || seen.has(f.filename)) return true;
  seen.add(f.filename);
  files.push(f);
  return true;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function text(v: unknown, max = 1024): string | undefined {
  return typeof v === 'string' && v.length <= max ? v : undefined;
}

/** PEP 691 `core-metadata` / `dist-info-metadata`: true or `{sha256: …}`. */
function coreMetadataOf(v: unknown): true | string | undefined {
  if (v === true) return true;
  const hashes = record(v);
  if (!hashes) return undefined;
  return sha256Of(hashes.sha256) ?? true;
}

/** Reads a PEP 691 JSON project page (already parsed) into the normalized form. */
export function fromSimpleJson(json: unknown, project: string, finalUrl: string): ProjectIndex {
  const doc = record(json);
  const files = doc?.files;
  if (!doc || !Array.isArray(files)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream simple JSON has no files list');
  const out: IndexFile[] = [];
  const seen = new Set<string>();
  for (const item of files) {
    const f = record(item);
    const filename = text(f?.filename, 255);
    const url = typeof f?.url === 'string' ? originUrl(f.url, finalUrl) : undefined;
    if (!f || filename === undefined || url === undefined) continue;
    const entry: IndexFile = { filename, url };
    const sha256 = sha256Of(record(f.hashes)?.sha256);
    if (sha256 !== undefined) entry.sha256 = sha256;
    const rp = text(f['requires-python']);
    if (rp !== undefined) entry.requiresPython = rp;
    if (f.yanked === true) entry.yanked = true;
    else if (typeof f.yanked === 'string') entry.yanked = text(f.yanked) ?? true;
    const cm = coreMetadataOf(f['core-metadata'] ?? f['dist-info-metadata']);
    if (cm !== undefined) entry.coreMetadata = cm;
    if (typeof f.size === 'number' && Number.isSafeInteger(f.size) && f.size >= 0) entry.size = f.size;
    const ut = text(f['upload-time'], 64);
    if (ut !== undefined) entry.uploadTime = ut;
    if (!addFile(out, seen, entry)) break;
  }
  const index: ProjectIndex = { name: project, files: out };
  if (Array.isArray(doc.versions)) index.versions = doc.versions.filter((v): v is string => typeof v === 'string' && v.length <= 128).slice(0, MAX_FILES);
  return index;
}

/** Parses a stored normalized index (written by this mode; still checked, it came from disk). */
export function parseStoredIndex(body: Buffer): ProjectIndex {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'stored project index is not JSON', { cause: err });
  }
  const doc = record(value);
  if (!doc || typeof doc.name !== 'string' || !Array.isArray(doc.files)) throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'stored project index is malformed');
  return value as ProjectIndex;
}

/** The file of `index` named `filename`. */
export function findFile(index: ProjectIndex, filename: string): IndexFile | undefined {
  return index.files.find((f) => f.filename === filename);
}
