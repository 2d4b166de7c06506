/**
 * Reading and rewriting packument JSON. A stored packument is upstream's
 * answer as it came (checked: an object named as requested, with a
 * `versions` object); on the way out every `dist.tarball` is rewritten to
 * this server (`<base><mount>/<name>/-/<file>`), whatever host upstream
 * named, so lock files written through regcache install through regcache.
 * Parsed and rewritten forms are remembered beside the stored body (the
 * in-memory cache hands out the same Buffer for every hit).
 */
import { RegcacheError } from '../../core/errors.js';

/** What a version's `dist` says about its tarball. */
export interface DistInfo {
  /** The tarball URL upstream named. */
  url: string;
  /** `dist.integrity` (SRI, possibly several space-separated hashes). */
  integrity: string | undefined;
  /** `dist.shasum` (hex sha1). */
  shasum: string | undefined;
}

type Json = Record<string, unknown>;

const parsed = new WeakMap<Buffer, Json>();
const rewritten = new WeakMap<Buffer, Map<string, Buffer>>();

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses (once per body) and checks a packument; throws ERR_UPSTREAM_BAD_RESPONSE. */
export function parsePackument(body: Buffer, name: string): Json {
  const known = parsed.get(body);
  if (known) return known;
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'packument is not JSON', { cause: err });
  }
  if (!isObject(doc) || doc.name !== name || !isObject(doc.versions)) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'packument is not an object for the requested package');
  }
  parsed.set(body, doc);
  return doc;
}

/** The last path segment of a tarball URL, decoded (undefined when it is not a URL). */
export function tarballFileOf(url: string): string | undefined {
  try {
    const path = new URL(url).pathname;
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  } catch {
    return undefined;
  }
}

/** The `dist` of the version whose tarball file is `file`, if any. */
export function distFor(doc: Json, file: string): DistInfo | undefined {
  for (const v of Object.values(doc.versions as Json)) {
    if (!isObject(v) || !isObject(v.dist) || typeof v.dist.tarball !== 'string') continue;
    if (tarballFileOf(v.dist.tarball) !== file) continue;
    const { integrity, shasum } = v.dist;
    return { url: v.dist.tarball, integrity: typeof integrity === 'string' ? integrity : undefined, shasum: typeof shasum === 'string' ? shasum : undefined };
  }
  return undefined;
}

/** The packument with every `dist.tarball` pointing below `mountUrl` (`https://cache/npm`). */
export function rewritePackument(body: Buffer, name: string, mountUrl: string): Buffer {
  let forBody = rewritten.get(body);
  const known = forBody?.get(mountUrl);
  if (known) return known;
  const doc = structuredClone(parsePackument(body, name));
  for (const v of Object.values(doc.versions as Json)) {
    if (!isObject(v) || !isObject(v.dist) || typeof v.dist.tarball !== 'string') continue;
    const file = tarballFileOf(v.dist.tarball) ?? '';
    v.dist.tarball = `${mountUrl}/${name}/-/${encodeURIComponent(file)}`;
  }
  const out = Buffer.from(JSON.stringify(doc));
  if (!forBody) rewritten.set(body, (forBody = new Map<string, Buffer>()));
  if (forBody.size >= 4) forBody.clear();
  forBody.set(mountUrl, out);
  return out;
}

/** The packument's dist-tags (an empty object when it has none). */
export function distTagsOf(doc: Json): Json {
  return isObject(doc['dist-tags']) ? doc['dist-tags'] : {};
}
