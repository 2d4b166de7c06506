/**
 * Manifests. By digest: immutable, verified against the digest, stored
 * once. By tag: mutable, stored per negotiated representation (accept.ts)
 * with the digest the registry announced (`Docker-Content-Digest`) as its
 * validator; the bytes are checked against that digest before commit.
 * Under `revalidate`, a tag past `fresh_for` is revalidated with a HEAD:
 * the same digest renews the stored copy without a body, another digest
 * fetches that manifest by digest. `Content-Type` is the registry's,
 * byte-exact; answers carry `Docker-Content-Digest` and `Vary: Accept`.
 */
import type { ArtifactRoute, ArtifactSource, DigestAlgorithm, FillSummary } from '../../core/route.js';
import type { UpstreamResponse } from '../../upstream/client.js';
import type { Negotiated } from './accept.js';
import { keptContentType } from './accept.js';
import { checkDigest } from './digest-check.js';
import { isDigest, parseDigest, type Digest } from './names.js';
import type { ResolvedPolicy } from './rules.js';
import type { OciUpstream } from './upstreams.js';

/** The largest manifest accepted (the distribution spec's limit for pushes is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** The type served when a registry names none. */
const FALLBACK_TYPE = 'application/vnd.oci.image.manifest.v1+json';

const both: DigestAlgorithm[] = ['sha256', 'sha512'];

function announcedDigest(res: UpstreamResponse): Digest | undefined {
  const raw = res.headers['docker-content-digest'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  return v !== undefined && isDigest(v) ? parseDigest(v) : undefined;
}

/** The route of a manifest by digest. */
export function digestManifestRoute(upstream: OciUpstream, repo: string, digest: Digest, key: string, negotiated: Negotiated, expireAfterMs: number): ArtifactRoute {
  let contentType = FALLBACK_TYPE;
  return {
    kind: 'artifact',
    key,
    get contentType() {
      return contentType;
    },
    class: 'artifact',
    async fetch(signal) {
      const res = await upstream.registry.manifest(repo, digest.text, { accept: negotiated.accept, signal });
      contentType = keptContentType(res.headers['content-type'], FALLBACK_TYPE);
      return { body: res.body, ...(res.size !== undefined ? { size: res.size } : {}) };
    },
    verify: (summary) => checkDigest(digest, summary),
    digests: both,
    headers: { 'docker-content-digest': digest.text },
    maxBytes: MAX_MANIFEST_BYTES,
    holdBack: Number.POSITIVE_INFINITY,
    ...(Number.isFinite(expireAfterMs) ? { expireAfterMs } : {}),
  };
}

/** What a tag route needs. */
export interface TagRouteDeps {
  upstream: OciUpstream;
  repo: string;
  tag: string;
  key: string;
  negotiated: Negotiated;
  policy: ResolvedPolicy;
  /** The digest recorded with the stored copy (its etag), when there is one. */
  storedDigest: string | undefined;
}

/** The route of a manifest by tag. */
export function tagManifestRoute(deps: TagRouteDeps): ArtifactRoute {
  const { upstream, repo, negotiated } = deps;
  let contentType = FALLBACK_TYPE;
  /** What the answer this route opened announced; undefined until then (and when another process downloaded). */
  let announced: Digest | undefined;
  /** The digest of the bytes this answer serves. */
  let current: string | undefined = deps.storedDigest !== undefined && isDigest(deps.storedDigest) ? deps.storedDigest : undefined;

  const source = (res: UpstreamResponse, digest: Digest | undefined): ArtifactSource => {
    contentType = keptContentType(res.headers['content-type'], FALLBACK_TYPE);
    announced = digest;
    if (digest !== undefined) current = digest.text;
    return { body: res.body, ...(res.size !== undefined ? { size: res.size } : {}), ...(digest !== undefined ? { etag: digest.text } : {}) };
  };

  const route: ArtifactRoute = {
    kind: 'artifact',
    key: deps.key,
    get contentType() {
      return contentType;
    },
    class: 'artifact',
    async fetch(signal) {
      const res = await upstream.registry.manifest(repo, deps.tag, { accept: negotiated.accept, signal });
      return source(res, announcedDigest(res));
    },
    verify(summary: FillSummary) {
      if (announced !== undefined) checkDigest(announced, summary);
      else current = `sha256:${summary.sha256}`;
    },
    digests: both,
    get headers() {
      return { vary: 'Accept', ...(current !== undefined ? { 'docker-content-digest': current } : {}) };
    },
    maxBytes: MAX_MANIFEST_BYTES,
    holdBack: Number.POSITIVE_INFINITY,
    ...(Number.isFinite(deps.policy.expireAfterMs) ? { expireAfterMs: deps.policy.expireAfterMs } : {}),
  };
  if (deps.policy.policy !== 'revalidate') return route;
  route.freshness = { freshForMs: deps.policy.freshForMs, busy: deps.policy.busy };
  route.revalidate = async (validators, signal) => {
    const head = await upstream.registry.manifest(repo, deps.tag, { method: 'HEAD', accept: negotiated.accept, signal });
    head.body.destroy();
    const now = announcedDigest(head);
    if (now === undefined) return source(await upstream.registry.manifest(repo, deps.tag, { accept: negotiated.accept, signal }), undefined);
    if (validators.etag === now.text) {
      current = now.text;
      return 'not-modified';
    }
    return source(await upstream.registry.manifest(repo, now.text, { accept: negotiated.accept, signal }), now);
  };
  return route;
}
