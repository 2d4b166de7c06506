/**
 * Validation of every Terraform address part that reaches a cache key or an
 * upstream URL. Anything that does not match is a 400 before any I/O.
 */
import { RegcacheError } from '../../core/errors.js';

const HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;
const NAME = /^[a-z0-9](?:[a-z0-9_-]{0,62})$/;
const VERSION = /^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const PLATFORM_PART = /^[a-z0-9]{1,32}$/;
const FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

function bad(what: string, value: string): RegcacheError {
  return new RegcacheError('ERR_BAD_REQUEST', `invalid ${what}: ${JSON.stringify(value.slice(0, 100))}`);
}

/** Lowercases and checks a registry hostname (optionally with :port). */
export function parseHost(raw: string): string {
  const h = raw.toLowerCase();
  if (h.length > 253 || !HOST.test(h)) throw bad('hostname', raw);
  const port = h.split(':')[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad('hostname', raw);
  return h;
}

/** Namespace / type / module name: lowercase letters, digits, '-' and '_'. */
export function parseName(what: string, raw: string): string {
  const v = raw.toLowerCase();
  if (!NAME.test(v)) throw bad(what, raw);
  return v;
}

/** A semantic version as registries publish them. */
export function parseVersion(raw: string): string {
  if (raw.length > 128 || !VERSION.test(raw)) throw bad('version', raw);
  return raw;
}

/** Checks a version string coming from upstream (same grammar, but a 502 when wrong). */
export function isVersion(raw: unknown): raw is string {
  return typeof raw === 'string' && raw.length <= 128 && VERSION.test(raw);
}

/** "linux_amd64" → { os, arch }. */
export function parsePlatform(raw: string): { os: string; arch: string } {
  const i = raw.indexOf('_');
  const os = raw.slice(0, i);
  const arch = raw.slice(i + 1);
  if (i < 0 || !PLATFORM_PART.test(os) || !PLATFORM_PART.test(arch)) throw bad('platform', raw);
  return { os, arch };
}

/** Whether an os or arch value is well formed. */
export function isPlatformPart(v: unknown): v is string {
  return typeof v === 'string' && PLATFORM_PART.test(v);
}

/** Whether a file name is safe to echo in a URL and compare. */
export function isFilename(v: unknown): v is string {
  return typeof v === 'string' && FILENAME.test(v) && !v.includes('..');
}

/** Cache-key form of a host: ':' is not a key character. */
export function hostKey(host: string): string {
  return host.replace(':', '_');
}

/** Key prefix for everything cached about one provider. */
export function providerKey(host: string, namespace: string, type: string): string {
  return `tf/providers/${hostKey(host)}/${namespace}/${type}`;
}
