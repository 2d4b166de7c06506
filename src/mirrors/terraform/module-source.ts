/**
 * Classifies a module registry `X-Terraform-Get` location (a go-getter
 * address) so the module mirror knows whether it can cache the source itself
 * (an http(s) archive, or a git repository over https) or must hand the
 * address to the client untouched (ssh, s3, gcs, hg, anything unknown).
 *
 * The rules follow go-getter: an optional forced getter (`git::`), then the
 * `//subdir` split (before the query string), then detectors (the
 * `github.com/org/repo` shorthand). Query strings are edited as raw text so
 * the URL we fetch keeps the exact encoding upstream gave (signed URLs).
 */
import { RegcacheError } from '../../core/errors.js';

/** Archive formats we can fetch and unpack; aliases (tgz, txz, tbz2) are normalized. */
export type ArchiveFormat = 'zip' | 'tar.gz' | 'tar.bz2' | 'tar.xz';

/** What a module source address means to the mirror. */
export type ModuleSource =
  | { kind: 'archive'; url: string; subdir?: string; format: ArchiveFormat }
  | { kind: 'git'; url: string; host: string; ref?: string; subdir?: string; depth?: number }
  | { kind: 'passthrough'; reason: string };

/** Parser switches; plain http is only for tests against loopback fakes. */
export interface ParseModuleSourceOptions {
  allowHttp?: boolean;
}

const FORMAT_ALIASES: Readonly<Record<string, ArchiveFormat>> = {
  zip: 'zip',
  'tar.gz': 'tar.gz',
  tgz: 'tar.gz',
  'tar.bz2': 'tar.bz2',
  tbz2: 'tar.bz2',
  'tar.xz': 'tar.xz',
  txz: 'tar.xz',
};
/** Longest suffixes first, so `.tar.gz` wins over a shorter match. */
const EXTENSIONS = ['tar.bz2', 'tar.gz', 'tar.xz', 'tbz2', 'tgz', 'txz', 'zip'] as const;

/** Parses `location` (resolving registry-relative paths against `baseUrl`). */
export function parseModuleSource(location: string, baseUrl: string, opts: ParseModuleSourceOptions = {}): ModuleSource {
  const src = location.trim();
  if (src === '' || hasSpaceOrControl(src)) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'module location is empty or contains whitespace/control characters');
  }
  if (src.startsWith('/') || src.startsWith('./') || src.startsWith('../')) return parseRelative(src, baseUrl, opts);

  const forced = /^([A-Za-z0-9]+)::(.*)$/s.exec(src);
  const getter = forced?.[1];
  const rest = forced?.[2] ?? src;
  if (getter !== undefined && getter !== 'git' && getter !== 'http' && getter !== 'https') {
    return passthrough(`forced getter ${getter}::`);
  }
  const split = splitSubdir(rest);
  const subdir = checkSubdir(split.subdir);

  if (rest.startsWith('github.com/')) {
    return getter === undefined || getter === 'git' ? parseGitHubShorthand(split.src, subdir, opts) : passthrough('GitHub shorthand with an http getter');
  }
  if (rest.startsWith('bitbucket.org/')) return passthrough('Bitbucket shorthand');
  if (/^[^/@:]+@[^/:]+:/.test(rest) || rest.startsWith('ssh://')) return passthrough('git over ssh');

  if (getter === 'git') return parseGitUrl(split.src, subdir, opts);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') return parseArchiveUrl(split.src, subdir, opts);
  return passthrough(scheme === undefined ? 'unrecognized source address' : `unsupported scheme ${scheme}`);
}

/**
 * Appends `//subdir` before any query string, go-getter's place for it, so
 * the address we answer with keeps the subdirectory the registry named.
 */
export function formatWithSubdir(url: string, subdir?: string): string {
  if (subdir === undefined || subdir === '') return url;
  const q = url.indexOf('?');
  return q < 0 ? `${url}//${subdir}` : `${url.slice(0, q)}//${subdir}${url.slice(q)}`;
}

/**
 * Whether `ref` is safe to hand to git as a ref name: never an option, never
 * a revision expression, within git's check-ref-format rules.
 */
export function isSafeGitRef(ref: string): boolean {
  if (ref.length === 0 || ref.length > 255) return false;
  if (ref.startsWith('-') || ref.startsWith('/') || ref.endsWith('/') || ref.endsWith('.') || ref.endsWith('.lock')) return false;
  if (hasSpaceOrControl(ref) || /[~^:?*[\\]/.test(ref) || ref.includes('..') || ref.includes('@{') || ref.includes('//') || ref === '@') return false;
  return !ref.split('/').some((part) => part.startsWith('.'));
}

function hasSpaceOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

function passthrough(reason: string): ModuleSource {
  return { kind: 'passthrough', reason };
}

/** Registry-relative locations resolve against the download URL (Terraform's rule). */
function parseRelative(src: string, baseUrl: string, opts: ParseModuleSourceOptions): ModuleSource {
  const split = splitSubdir(src, src.startsWith('//') ? 2 : 0);
  const subdir = checkSubdir(split.subdir);
  let resolved: URL;
  try {
    resolved = new URL(split.src, baseUrl);
  } catch {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'module location cannot be resolved against the download URL');
  }
  return parseArchiveUrl(resolved.href, subdir, opts);
}

/** go-getter's SourceDirSubdir: `//` after the scheme and before `?` starts the subdir. */
function splitSubdir(src: string, from?: number): { src: string; subdir: string | undefined } {
  const q = src.indexOf('?');
  const stop = q < 0 ? src.length : q;
  const scheme = src.slice(0, stop).indexOf('://');
  const offset = from ?? (scheme < 0 ? 0 : scheme + 3);
  const idx = src.slice(0, stop).indexOf('//', offset);
  if (idx < 0) return { src, subdir: undefined };
  return { src: src.slice(0, idx) + src.slice(stop), subdir: src.slice(idx + 2, stop) };
}

/** Drops empty subdirs and refuses any that could climb out of the package. */
function checkSubdir(subdir: string | undefined): string | undefined {
  if (subdir === undefined || subdir === '') return undefined;
  for (const segment of subdir.split(/[/\\]/)) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // not percent-encoded; the raw segment is checked as is
    }
    if (decoded === '..') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'module subdir escapes the package');
  }
  return subdir;
}

function parseUrl(src: string): URL | undefined {
  try {
    return new URL(src);
  } catch {
    return undefined;
  }
}

/** Applies the http(s) policy shared by git and archive sources; a reason when refused. */
function refuse(u: URL, opts: ParseModuleSourceOptions): string | undefined {
  if (u.protocol === 'http:' && opts.allowHttp !== true) return 'plain http';
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `unsupported scheme ${u.protocol.slice(0, -1)}`;
  if (u.username !== '' || u.password !== '') return 'credentials in URL';
  if (u.hash !== '') return 'URL fragment';
  return undefined;
}

function parseGitHubShorthand(src: string, subdir: string | undefined, opts: ParseModuleSourceOptions): ModuleSource {
  const q = src.indexOf('?');
  const path = q < 0 ? src : src.slice(0, q);
  const query = q < 0 ? '' : src.slice(q);
  const [, owner, repo, ...extra] = path.split('/');
  if (owner === undefined || owner === '' || repo === undefined || repo === '') return passthrough('malformed GitHub shorthand');
  const url = `https://github.com/${owner}/${repo.endsWith('.git') ? repo : `${repo}.git`}${query}`;
  const extraDir = extra.filter((part) => part !== '').join('/');
  const joined = extraDir === '' ? subdir : subdir === undefined ? extraDir : `${extraDir}/${subdir}`;
  return parseGitUrl(url, checkSubdir(joined), opts);
}

function parseGitUrl(src: string, subdir: string | undefined, opts: ParseModuleSourceOptions): ModuleSource {
  const u = parseUrl(src);
  if (u === undefined) return passthrough('unparseable git URL');
  const refused = refuse(u, opts);
  if (refused !== undefined) return passthrough(refused);
  const { remaining, taken } = takeQueryParams(u.search, ['ref', 'depth', 'sshkey']);
  if (taken.has('sshkey')) return passthrough('git sshkey parameter');
  const ref = taken.get('ref');
  if (ref !== undefined && ref !== '' && !isSafeGitRef(ref)) return passthrough('unsupported git ref');
  const depthText = taken.get('depth');
  if (depthText !== undefined && !/^[1-9][0-9]{0,8}$/.test(depthText)) return passthrough('invalid git depth');
  const url = `${u.origin}${u.pathname}${remaining}`;
  return {
    kind: 'git',
    url,
    host: u.host,
    ...(ref !== undefined && ref !== '' ? { ref } : {}),
    ...(subdir !== undefined ? { subdir } : {}),
    ...(depthText !== undefined ? { depth: Number(depthText) } : {}),
  };
}

function parseArchiveUrl(src: string, subdir: string | undefined, opts: ParseModuleSourceOptions): ModuleSource {
  const u = parseUrl(src);
  if (u === undefined) return passthrough('unparseable URL');
  const refused = refuse(u, opts);
  if (refused !== undefined) return passthrough(refused);
  const { remaining, taken } = takeQueryParams(u.search, ['archive', 'checksum']);
  if (taken.has('checksum')) return passthrough('checksum parameter');
  const archive = taken.get('archive');
  let format: ArchiveFormat | undefined;
  if (archive !== undefined) {
    format = Object.hasOwn(FORMAT_ALIASES, archive) ? FORMAT_ALIASES[archive] : undefined;
    if (format === undefined) return passthrough(`unsupported archive=${archive}`);
  } else {
    const ext = EXTENSIONS.find((e) => u.pathname.endsWith(`.${e}`));
    format = ext === undefined ? undefined : FORMAT_ALIASES[ext];
    if (format === undefined) return passthrough('http source without an archive format');
  }
  return { kind: 'archive', url: `${u.origin}${u.pathname}${remaining}`, format, ...(subdir !== undefined ? { subdir } : {}) };
}

/**
 * Removes the named parameters from a raw query (`?a=1&b=2`), decoding only
 * those; the rest keeps its exact bytes. The last occurrence of a name wins.
 */
function takeQueryParams(search: string, names: readonly string[]): { remaining: string; taken: Map<string, string> } {
  const taken = new Map<string, string>();
  const kept: string[] = [];
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = safeDecode(rawName);
    if (name !== undefined && names.includes(name)) {
      taken.set(name, safeDecode(eq < 0 ? '' : pair.slice(eq + 1)) ?? '');
    } else {
      kept.push(pair);
    }
  }
  return { remaining: kept.length === 0 ? '' : `?${kept.join('&')}`, taken };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
