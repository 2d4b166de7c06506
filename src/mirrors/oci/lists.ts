/**
 * `tags/list` and `referrers/<digest>`: small JSON answers kept as metadata
 * for `fresh_for`, then served stale while one background refresh runs
 * (up to STALE_MS, so a pull still resolves its tags with the upstream
 * down). Each answer is checked for shape before it is stored. The query
 * is reduced to what the spec defines (`n`, `last`; `artifactType`).
 */
import { RegcacheError } from '../../core/errors.js';
import type { Cache } from '../../core/cache.js';
import type { MetadataRoute } from '../../core/route.js';
import type { BodyAnswer } from '../mirror.js';
import { keptContentType } from './accept.js';
import { tagListKey, referrersKey } from './keys.js';
import { isTag, type Digest } from './names.js';
import { LINK } from './passthrough.js';
import type { OciUpstream } from './upstreams.js';
import { firstValue } from '../../upstream/response.js';

/** How long a list is served stale after `fresh_for` while it is refreshed. */
const STALE_MS = 7 * 24 * 3600 * 1000;
const MAX_LIST_BYTES = 4 * 1024 * 1024;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** The spec's tags/list query (`n`, `last`), validated and canonical. */
export function tagListQuery(query: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  const n = query.get('n');
  if (n !== null) {
    if (!/^\d{1,5}$/.test(n)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid n');
    out.set('n', n);
  }
  const last = query.get('last');
  if (last !== null) {
    if (!isTag(last)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid last');
    out.set('last', last);
  }
  return out;
}

/** The referrers query (`artifactType`), validated. */
export function referrersQuery(query: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  const t = query.get('artifactType');
  if (t !== null) {
    if (!MEDIA_TYPE.test(t)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid artifactType');
    out.set('artifactType', t);
  }
  return out;
}

function parseObject(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'registry answered malformed JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'registry answered JSON that is not an object');
  return v as Record<string, unknown>;
}

/** What a list answer needs. */
export interface ListDeps {
  cache: Cache;
  instance: string;
  upstream: OciUpstream;
  repo: string;
  freshForMs: number;
}

async function serve(deps: ListDeps, route: MetadataRoute, extraHeaders: (attrs: Record<string, string>) => Record<string, string>): Promise<BodyAnswer> {
  const r = await deps.cache.metadata(route);
  return { kind: 'body', status: 200, contentType: r.contentType, body: r.body, result: r.result, headers: extraHeaders(r.attrs) };
}

/** Answers `/v2/<repo>/tags/list`. */
export function tagList(deps: ListDeps, query: URLSearchParams): Promise<BodyAnswer> {
  const q = tagListQuery(query);
  const route: MetadataRoute = {
    kind: 'metadata',
    key: tagListKey(deps.instance, deps.upstream.ns, deps.repo, q.toString()),
    ttlMs: deps.freshForMs,
    staleIfErrorMs: STALE_MS,
    async load(signal) {
      const res = await deps.upstream.registry.tags(deps.repo, q, { signal });
      const body = await deps.upstream.registry.read(res, MAX_LIST_BYTES);
      const o = parseObject(body);
      if (o['name'] !== deps.repo || !(o['tags'] === null || (Array.isArray(o['tags']) && o['tags'].every((t) => typeof t === 'string' && isTag(t))))) {
        throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'registry answered a tag list of another shape or repository');
      }
      const link = firstValue(res.headers['link']);
      return { body, contentType: 'application/json', attrs: link !== undefined && LINK.test(link) ? { link } : {} };
    },
  };
  return serve(deps, route, (attrs) => (attrs['link'] !== undefined ? { link: attrs['link'] } : {}));
}

/** Answers `/v2/<repo>/referrers/<digest>`. */
export function referrers(deps: ListDeps, digest: Digest, query: URLSearchParams): Promise<BodyAnswer> {
  const q = referrersQuery(query);
  const route: MetadataRoute = {
    kind: 'metadata',
    key: referrersKey(deps.instance, deps.upstream.ns, deps.repo, digest, q.toString()),
    ttlMs: deps.freshForMs,
    staleIfErrorMs: STALE_MS,
    async load(signal) {
      const res = await deps.upstream.registry.referrers(deps.repo, digest.text, q, { signal });
      const body = await deps.upstream.registry.read(res, MAX_LIST_BYTES);
      const o = parseObject(body);
      if (!Array.isArray(o['manifests'])) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'registry answered a referrers list without manifests');
      const filters = firstValue(res.headers['oci-filters-applied']);
      return {
        body,
        contentType: keptContentType(res.headers['content-type'], 'application/vnd.oci.image.index.v1+json'),
        attrs: filters === 'artifactType' ? { filters } : {},
      };
    },
  };
  return serve(deps, route, (attrs) => (attrs['filters'] !== undefined ? { 'oci-filters-applied': attrs['filters'] } : {}));
}
