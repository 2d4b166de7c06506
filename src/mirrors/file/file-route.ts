/**
 * The artifact route of a cached file: `immutable` (fetched once, kept
 * until `expire_after`) or `revalidate` (fresh for `fresh_for`, then a
 * conditional request with the stored ETag / Last-Modified; a 304 renews
 * the copy without a body). Every download is checked against what the
 * upstream that sent it announced (integrity.ts) before it is stored.
 * When the bytes come from another process's download of the same key
 * (server.workers), that process checked them against its upstream answer
 * before releasing their end: `verify` then has no claims of its own.
 */
import type { ArtifactRoute, ArtifactSource, DigestAlgorithm } from '../../core/route.js';
import type { UpstreamResponse } from '../../upstream/client.js';
import { algorithmsFor, announcedBy, checkAnnounced, type Announced } from './integrity.js';
import type { FilePath } from './paths.js';
import type { ResolvedPolicy } from './rules.js';
import type { FileUpstreams } from './upstreams.js';
import { artifactSource } from '../../upstream/response.js';

/** What a route needs besides the path and its policy. */
export interface FileRouteDeps {
  upstreams: FileUpstreams;
  /** Forwarded client headers (`pass_headers`). */
  passed: Record<string, string>;
  contentType: string;
  /** `not_found_ttl` in ms (0 = upstream 404s are not remembered). */
  notFoundTtlMs: number;
  /** `max_size`: the largest body accepted. */
  maxBytes: number;
}


/** The route for a cached (immutable or revalidate) file. */
export function fileRoute(fp: FilePath, policy: ResolvedPolicy, deps: FileRouteDeps): ArtifactRoute {
  /** Claims of the upstream answer this route's own fetch or revalidation opened. */
  let announced: Announced | undefined;

  const source = (res: UpstreamResponse): ArtifactSource => {
    announced = announcedBy(res.headers, res.size);
    return artifactSource(res);
  };

  const route: ArtifactRoute = {
    kind: 'artifact',
    key: fp.key,
    contentType: deps.contentType,
    class: 'artifact',
    async fetch(signal) {
      return source((await deps.upstreams.open({ method: 'GET', path: fp.upstreamPath, headers: deps.passed, signal })).res);
    },
    verify(summary) {
      if (announced) checkAnnounced(announced, summary);
    },
    // Read by the fill once the source is open (core/fill-run.ts): the algorithms this upstream announced.
    get digests(): DigestAlgorithm[] {
      return ['sha256', ...algorithmsFor(announced).filter((a) => a !== 'sha256')];
    },
    ...(Number.isFinite(policy.expireAfterMs) ? { expireAfterMs: policy.expireAfterMs } : {}),
    ...(deps.notFoundTtlMs > 0 ? { negativeTtlMs: deps.notFoundTtlMs } : {}),
    maxBytes: deps.maxBytes,
  };
  if (policy.policy !== 'revalidate') return route;
  route.freshness = { freshForMs: policy.freshForMs, busy: policy.busy };
  route.revalidate = async (validators, signal) => {
    const headers = { ...deps.passed };
    if (validators.etag !== undefined) headers['if-none-match'] = validators.etag;
    if (validators.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified;
    const opened = await deps.upstreams.openConditional({ method: 'GET', path: fp.upstreamPath, headers, signal });
    return opened === 'not-modified' ? 'not-modified' : source(opened.res);
  };
  return route;
}
