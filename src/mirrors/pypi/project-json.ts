/**
 * `/pypi/<name>/json` (PyPI's JSON API), when `proxy_json` is on: upstream's
 * answer is stored as it came (parsed and size-checked first) under the
 * `index_*` policy, and every file URL in it (`urls[]`, `releases{}`) is
 * rewritten per request to this server's files route, which serves only
 * files the project's simple index names. Entries whose file name cannot
 * be served are dropped.
 */
import { RegcacheError } from '../../core/errors.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { validFilename } from './names.js';
import { filesBase } from './render.js';
import type { DocLoader } from './stored-doc.js';
import { validatorsOf } from '../../upstream/response.js';


/** The loader of a project's JSON API answer. */
export function projectJsonLoader(client: UpstreamClient, upstream: string, project: string, maxBytes: number): DocLoader {
  return async (opts) => {
    const headers: Record<string, string> = {};
    if (opts.validators?.etag !== undefined) headers['if-none-match'] = opts.validators.etag;
    if (opts.validators?.lastModified !== undefined) headers['if-modified-since'] = opts.validators.lastModified;
    let got: Awaited<ReturnType<UpstreamClient['bytes']>>;
    try {
      got = await client.bytes(`${upstream}/pypi/${encodeURIComponent(project)}/json`, maxBytes, {
        signal: opts.signal,
        accept: 'application/json',
        headers,
        ...(opts.authorization !== undefined ? { authorization: opts.authorization } : {}),
      });
    } catch (err) {
      if (opts.validators && err instanceof RegcacheError && err.upstreamStatus === 304) return 'not-modified';
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(got.body.toString('utf8'));
    } catch (err) {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream project JSON does not parse', { cause: err });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream project JSON is not an object');
    return { body: got.body, ...validatorsOf(got.headers) };
  };
}

/** Rewrites a list of file entries; keeps only entries with a servable file name. */
function rewriteFiles(list: unknown, base: string): unknown[] {
  if (!Array.isArray(list)) return [];
  const out: unknown[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const entry = item as Record<string, unknown>;
    if (typeof entry.filename !== 'string' || !validFilename(entry.filename)) continue;
    out.push({ ...entry, url: `${base}/${encodeURIComponent(entry.filename)}` });
  }
  return out;
}

/** The stored answer with its file URLs pointing at `serverUrl`. */
export function rewriteProjectJson(body: Buffer, project: string, serverUrl: string): Buffer {
  const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const base = filesBase(serverUrl, project);
  const out: Record<string, unknown> = { ...doc };
  if ('urls' in doc) out.urls = rewriteFiles(doc.urls, base);
  if (typeof doc.releases === 'object' && doc.releases !== null) {
    const releases: Record<string, unknown> = {};
    for (const [version, files] of Object.entries(doc.releases as Record<string, unknown>)) releases[version] = rewriteFiles(files, base);
    out.releases = releases;
  }
  return Buffer.from(JSON.stringify(out));
}
