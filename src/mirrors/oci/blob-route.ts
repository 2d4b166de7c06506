/**
 * A blob by digest: immutable, fetched once from the registry (its
 * redirect to a CDN followed by regcache), verified against the digest
 * before commit, served with `Docker-Content-Digest`. Concurrent requests
 * for one cold blob join the one download (the core's single flight).
 */
import type { ArtifactRoute } from '../../core/route.js';
import { checkDigest } from './digest-check.js';
import type { Digest } from './names.js';
import type { OciUpstream } from './upstreams.js';

/** What a blob route needs. */
export interface BlobRouteDeps {
  upstream: OciUpstream;
  repo: string;
  digest: Digest;
  key: string;
  maxBytes: number;
  expireAfterMs: number;
}

/** The artifact route of one blob. */
export function blobRoute(deps: BlobRouteDeps): ArtifactRoute {
  const { digest } = deps;
  return {
    kind: 'artifact',
    key: deps.key,
    contentType: 'application/octet-stream',
    class: 'artifact',
    async fetch(signal) {
      const res = await deps.upstream.registry.blob(deps.repo, digest.text, { signal });
      return { body: res.body, ...(res.size !== undefined ? { size: res.size } : {}) };
    },
    verify: (summary) => checkDigest(digest, summary),
    digests: digest.algorithm === 'sha512' ? ['sha256', 'sha512'] : ['sha256'],
    headers: { 'docker-content-digest': digest.text },
    maxBytes: deps.maxBytes,
    ...(Number.isFinite(deps.expireAfterMs) ? { expireAfterMs: deps.expireAfterMs } : {}),
  };
}
