/**
 * The `oci` mode: a pull-through cache for a container registry (Docker
 * Hub, ghcr.io, any OCI Distribution registry) on a listener of its own
 * (`bind`: clients need `/v2/` at the root), with cache-proxy's `oci:`
 * keys. Blobs and manifests by digest are immutable and verified against
 * their digest before commit; tags follow the policy (bypass / immutable /
 * revalidate with a HEAD and `Docker-Content-Digest`), per negotiated
 * representation; the upstream token flow runs in regcache
 * (registry-client.ts, token-auth.ts: also used by other modes that read
 * OCI registries). Stores under `oci/<instance>/`. See docs/modes/oci.md.
 */
import { defineMode } from '../mode.js';
import { instancePrefix } from './keys.js';
import { describeOci, ociPurgeTarget } from './listing.js';
import { createOciMirror } from './oci-mirror.js';
import { createPolicyResolver } from './rules.js';
import { ociSettingsSchema } from './settings.js';
import { ociStatus } from './snippets.js';
import { createOciUpstreams } from './upstreams.js';

/** The registration of the `oci` mode. */
export const ociMode = defineMode({
  name: 'oci',
  summary: 'container images and OCI artifacts (Docker Hub, ghcr.io …): pull-through registry on its own listener',
  schema: ociSettingsSchema,
  upstreamUrls: (settings) => [settings.upstream, ...Object.values(settings.registries).map((r) => r.upstream)],
  create(ctx, settings) {
    const upstreams = createOciUpstreams(ctx.client, settings);
    const mirror = createOciMirror({
      instance: ctx.instance,
      cache: ctx.cache,
      upstreams,
      resolve: createPolicyResolver(settings, ctx.expireAfterMs),
      maxBytes: settings.max_size,
    });
    const urls = upstreams.all.map((u) => u.url);
    return Promise.resolve({
      mirrors: [mirror],
      keyPrefixes: [instancePrefix(ctx.instance)],
      upstreamHosts: urls.map((u) => new URL(u).host),
      purgeTarget: (segments) => ociPurgeTarget(ctx.instance, segments),
      describe: (objects) => describeOci(ctx.instance, objects),
      status: (baseUrl) => ociStatus(ctx.publicUrl ?? baseUrl, urls),
    });
  },
});
