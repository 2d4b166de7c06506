/**
 * Mutable documents (a project's normalized index, its `/pypi/<name>/json`)
 * kept as artifacts with the `index_*` policy: `revalidate` is fresh for
 * `index_fresh_for`, then revalidated by the request that finds it stale
 * (a 304 renews it, upstream trouble serves the stored copy, busy requests
 * get the stored copy or their own upstream read); `immutable` is fetched
 * once; `bypass` is read from upstream on every request and stored
 * nowhere. The document is read whole (it is small) so it can be rendered
 * per request. A document upstream refuses anonymously (401/403) is read
 * with the client's credential, if it sent one, and never stored: what
 * only a credential could read is never served to anyone else.
 */
import { Readable } from 'node:stream';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute, CacheResult, Validators } from '../../core/route.js';
import type { PypiBusy, PypiPolicy } from './settings.js';
import { readCapped } from '../../core/read-capped.js';

/** One upstream read of a document. */
export interface DocLoad {
  body: Buffer;
  etag?: string;
  lastModified?: string;
}

/** How a document is read from upstream. */
export type DocLoader = (opts: { signal: AbortSignal; authorization?: string; validators?: Validators }) => Promise<DocLoad | 'not-modified'>;

/** A document read for one request. */
export interface ReadDoc {
  body: Buffer;
  result: CacheResult;
  /** Read with the client's credential: never stored, never reused. */
  private: boolean;
}

/** The policy of documents. */
export interface DocPolicy {
  policy: PypiPolicy;
  freshForMs: number;
  busy: PypiBusy;
  expireAfterMs: number;
  maxBytes: number;
}

const collect = (body: Readable | undefined, max: number): Promise<Buffer> =>
  readCapped(body, max, () => new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'stored document too large'));

function loaded(got: DocLoad | 'not-modified'): DocLoad {
  if (got === 'not-modified') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream answered 304 to an unconditional request');
  return got;
}

/** The artifact route of a stored document. */
export function docRoute(key: string, load: DocLoader, policy: DocPolicy): ArtifactRoute {
  const source = (got: DocLoad) => ({
    body: Readable.from([got.body]),
    size: got.body.length,
    ...(got.etag !== undefined ? { etag: got.etag } : {}),
    ...(got.lastModified !== undefined ? { lastModified: got.lastModified } : {}),
  });
  const route: ArtifactRoute = {
    kind: 'artifact',
    key,
    contentType: 'application/json',
    class: 'metadata',
    fetch: async (signal) => source(loaded(await load({ signal }))),
    // The body is regcache's own normalization of a parsed, checked upstream answer.
    verify: () => undefined,
    maxBytes: policy.maxBytes,
    holdBack: Number.POSITIVE_INFINITY,
    ...(Number.isFinite(policy.expireAfterMs) ? { expireAfterMs: policy.expireAfterMs } : {}),
  };
  if (policy.policy === 'revalidate') {
    route.freshness = { freshForMs: policy.freshForMs, busy: policy.busy };
    route.revalidate = async (validators, signal) => {
      const got = await load({ signal, validators });
      return got === 'not-modified' ? 'not-modified' : source(got);
    };
  }
  return route;
}

/** Reads a document for a request carrying `credential` (its Authorization header, if any). */
export async function readDoc(cache: Cache, route: ArtifactRoute, load: DocLoader, policy: DocPolicy, credential: string | undefined): Promise<ReadDoc> {
  if (policy.policy === 'bypass') {
    const got = await readDirect(load, undefined);
    return { body: got.body, result: 'bypass', private: false };
  }
  try {
    const reply = await cache.artifact(route, { head: false });
    return { body: await collect(reply.body, policy.maxBytes), result: reply.result, private: false };
  } catch (err) {
    if (!(err instanceof RegcacheError) || err.code !== 'ERR_UPSTREAM_UNAUTHORIZED' || credential === undefined) throw err;
  }
  const got = await readDirect(load, credential);
  return { body: got.body, result: 'bypass', private: true };
}

async function readDirect(load: DocLoader, authorization: string | undefined): Promise<DocLoad> {
  const signal = AbortSignal.timeout(120_000);
  return loaded(await load({ signal, ...(authorization !== undefined ? { authorization } : {}) }));
}
