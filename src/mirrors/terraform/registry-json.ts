/**
 * Parsing of upstream registry answers. Upstream JSON is untrusted: each
 * parser keeps only well-formed fields, resolves relative URLs against the
 * answer's final URL, and fails with ERR_UPSTREAM_BAD_RESPONSE otherwise.
 */
import { RegcacheError } from '../../core/errors.js';
import { isFilename, isPlatformPart, isVersion } from './names.js';

/** Service discovery, with absolute base URLs ending in '/'. */
export interface Discovery {
  providers?: string;
  modules?: string;
}

/** One published provider version. */
export interface ProviderVersion {
  version: string;
  protocols: string[];
  platforms: Array<{ os: string; arch: string }>;
}

/** The versions answer. */
export interface ProviderVersions {
  versions: ProviderVersion[];
}

/** A per-platform download answer with absolute URLs. */
export interface DownloadInfo {
  os: string;
  arch: string;
  filename: string;
  shasum: string;
  downloadUrl: string;
  shasumsUrl: string;
  shasumsSignatureUrl: string;
  protocols: string[];
  /** ASCII-armored public keys upstream says sign this release. */
  signingKeys: string[];
  /** The upstream answer as received, with its three URLs made absolute. */
  raw: Record<string, unknown>;
}

function bad(msg: string): RegcacheError {
  return new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `upstream registry answer: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolves a URL from an upstream answer; only absolute http(s) without user-info survives. */
export function resolveUpstreamUrl(value: unknown, base: string, field: string): string {
  if (typeof value !== 'string' || value === '') throw bad(`missing ${field}`);
  let u: URL;
  try {
    u = new URL(value, base);
  } catch {
    throw bad(`invalid ${field}`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) throw bad(`unsupported ${field}`);
  return u.toString();
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Parses `/.well-known/terraform.json`. */
export function parseDiscovery(json: unknown, finalUrl: string): Discovery {
  if (!isObject(json)) throw bad('discovery document is not an object');
  const out: Discovery = {};
  const p = json['providers.v1'];
  const m = json['modules.v1'];
  if (p !== undefined) out.providers = withSlash(resolveUpstreamUrl(p, finalUrl, 'providers.v1'));
  if (m !== undefined) out.modules = withSlash(resolveUpstreamUrl(m, finalUrl, 'modules.v1'));
  return out;
}

function withSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

/** Parses a provider versions answer, dropping malformed entries. */
export function parseVersions(json: unknown): ProviderVersions {
  if (!isObject(json) || !Array.isArray(json.versions)) throw bad('versions is not a list');
  const versions: ProviderVersion[] = [];
  for (const v of json.versions) {
    if (!isObject(v) || !isVersion(v.version)) continue;
    const platforms = Array.isArray(v.platforms)
      ? v.platforms.filter((p): p is { os: string; arch: string } => isObject(p) && isPlatformPart(p.os) && isPlatformPart(p.arch)).map((p) => ({ os: p.os, arch: p.arch }))
      : [];
    versions.push({ version: v.version, protocols: strings(v.protocols), platforms });
  }
  return { versions };
}

/** Parses a provider download answer. */
export function parseDownload(json: unknown, finalUrl: string): DownloadInfo {
  if (!isObject(json)) throw bad('download answer is not an object');
  const { os, arch, filename, shasum } = json;
  if (!isPlatformPart(os) || !isPlatformPart(arch)) throw bad('invalid os/arch');
  if (!isFilename(filename)) throw bad('invalid filename');
  if (typeof shasum !== 'string' || !/^[0-9a-f]{64}$/i.test(shasum)) throw bad('invalid shasum');
  const downloadUrl = resolveUpstreamUrl(json.download_url, finalUrl, 'download_url');
  const shasumsUrl = resolveUpstreamUrl(json.shasums_url, finalUrl, 'shasums_url');
  const shasumsSignatureUrl = resolveUpstreamUrl(json.shasums_signature_url, finalUrl, 'shasums_signature_url');
  const keys = isObject(json.signing_keys) && Array.isArray(json.signing_keys.gpg_public_keys) ? json.signing_keys.gpg_public_keys : [];
  const signingKeys = keys.filter(isObject).map((k) => k.ascii_armor).filter((a): a is string => typeof a === 'string' && a.includes('BEGIN PGP PUBLIC KEY BLOCK'));
  return {
    os,
    arch,
    filename,
    shasum: shasum.toLowerCase(),
    downloadUrl,
    shasumsUrl,
    shasumsSignatureUrl,
    protocols: strings(json.protocols),
    signingKeys,
    raw: { ...json, download_url: downloadUrl, shasums_url: shasumsUrl, shasums_signature_url: shasumsSignatureUrl },
  };
}
