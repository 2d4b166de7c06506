/**
 * The request handler of an `oci` instance (its own listener, `/v2/` at
 * the root). The path is parsed and validated first (request.ts), the
 * registry chosen by `?ns=` (upstreams.ts), the repository's policy
 * resolved (rules.ts), then:
 * - `/v2/` answers locally (clients ping it before every pull);
 * - `bypass`: manifests and blobs stream from the registry, nothing stored;
 * - otherwise blobs and manifests by digest are immutable artifacts
 *   (verified before commit), tags follow the policy (manifest-route.ts),
 *   and tag lists / referrers are short-lived metadata (lists.ts).
 * A HEAD of a blob that is not cached asks the registry with a HEAD
 * instead of downloading the blob.
 */
import type { Cache } from '../../core/cache.js';
import type { Mirror, MirrorAnswer, MirrorRequest } from '../mirror.js';
import { negotiate } from './accept.js';
import { blobRoute } from './blob-route.js';
import { blobKey, manifestKey, tagKey } from './keys.js';
import { referrers, tagList } from './lists.js';
import { digestManifestRoute, tagManifestRoute } from './manifest-route.js';
import { passThrough } from './passthrough.js';
import { parseOciRequest } from './request.js';
import type { PolicyResolver } from './rules.js';
import type { OciUpstreams } from './upstreams.js';

/** What the handler of one instance works with. */
export interface OciMirrorDeps {
  instance: string;
  cache: Cache;
  upstreams: OciUpstreams;
  resolve: PolicyResolver;
  maxBytes: number;
}

const PING = Buffer.from('{}');

/** Creates the instance's one Mirror, owning its listener's whole path space. */
export function createOciMirror(deps: OciMirrorDeps): Mirror {
  const { instance, cache } = deps;
  return {
    name: 'oci',
    prefix: [],
    async handle(req: MirrorRequest): Promise<MirrorAnswer> {
      const r = parseOciRequest(req.segments);
      const upstream = deps.upstreams.select(req.query);
      if (r.kind === 'ping') {
        return { kind: 'body', status: 200, contentType: 'application/json', body: PING, result: 'hit', headers: { 'docker-distribution-api-version': 'registry/2.0' } };
      }
      const policy = deps.resolve(r.repo);
      const head = req.method === 'HEAD';
      const listDeps = { cache, instance, upstream, repo: r.repo, freshForMs: policy.freshForMs };
      switch (r.kind) {
        case 'tags':
          return tagList(listDeps, req.query);
        case 'referrers':
          return referrers(listDeps, r.digest, req.query);
        case 'blob': {
          if (policy.policy === 'bypass') return passThrough(await upstream.registry.blob(r.repo, r.digest.text, { method: req.method }), head, 'blob', r.digest);
          const key = blobKey(instance, upstream.ns, r.digest);
          if (head && !cache.busy(key) && (await cache.peek(key)) === undefined) {
            return passThrough(await upstream.registry.blob(r.repo, r.digest.text, { method: 'HEAD' }), true, 'blob', r.digest);
          }
          return { kind: 'artifact', route: blobRoute({ upstream, repo: r.repo, digest: r.digest, key, maxBytes: deps.maxBytes, expireAfterMs: policy.expireAfterMs }) };
        }
        case 'manifest': {
          const negotiated = negotiate(req.headers.accept);
          const ref = r.reference;
          if (policy.policy === 'bypass') {
            const reference = ref.kind === 'tag' ? ref.tag : ref.digest.text;
            const res = await upstream.registry.manifest(r.repo, reference, { method: req.method, accept: negotiated.accept });
            return passThrough(res, head, 'manifest', ref.kind === 'digest' ? ref.digest : undefined);
          }
          if (ref.kind === 'digest') {
            return { kind: 'artifact', route: digestManifestRoute(upstream, r.repo, ref.digest, manifestKey(instance, upstream.ns, ref.digest), negotiated, policy.expireAfterMs) };
          }
          const key = tagKey(instance, upstream.ns, r.repo, ref.tag, negotiated.id);
          const stored = await cache.peek(key);
          return { kind: 'artifact', route: tagManifestRoute({ upstream, repo: r.repo, tag: ref.tag, key, negotiated, policy, storedDigest: stored?.etag }) };
        }
      }
    },
  };
}
