/**
 * The `tofu_oci` mode: regcache as an OCI registry for OpenTofu's
 * `oci_mirror` provider installation method, on a listener of its own
 * (`bind`: clients need `/v2/` at the root). Repositories
 * `<repository_prefix>/<hostname>/<namespace>/<type>` serve the provider
 * versions of the normal registries in OpenTofu's layout (layout.ts),
 * pulled through on first use exactly as the terraform mode's network
 * mirror does: its registry reads, signed SHA256SUMS and zip route are
 * reused (../terraform/), so zips are shared with it (`tf/providers/…`).
 * Generated manifests and layer records are stored under
 * `tofu-oci/<instance>/` (keys.ts). See docs/modes/tofu-oci.md.
 */
import { join } from 'node:path';
import { createAccess } from '../../access/access.js';
import { loadSigningKey } from '../../access/signing-key.js';
import { defineMode } from '../mode.js';
import { describeTerraform } from '../terraform/listing.js';
import { createPolicy } from '../terraform/policy.js';
import { createStoredZipHasher } from '../terraform/h1-store.js';
import { createProviderPackages } from '../terraform/provider-package.js';
import { createRegistryReader } from '../terraform/registry.js';
import { createRegistryUpstreams, DEFAULT_REGISTRY_HOSTS } from '../terraform/upstreams.js';
import { instancePrefix } from './keys.js';
import { createProviderArtifacts } from './provider-artifacts.js';
import { tofuOciSettingsSchema } from './settings.js';
import { tofuOciStatus } from './snippets.js';
import { createTofuOciMirror } from './tofu-oci-mirror.js';
import { RegcacheError } from '../../core/errors.js';

/** The access layer's settings, as the terraform mode's defaults (private scopes are not served here). */
const ACCESS = { authCacheTtlMs: 60_000, signedUrlTtlMs: 15 * 60_000, negativeTtlMs: 5_000, checksPerMinute: 10 };

/** The registration of the `tofu_oci` mode. */
export const tofuOciMode = defineMode({
  name: 'tofu_oci',
  summary: 'OpenTofu providers as OCI artifacts (oci_mirror), pulled through from provider registries, on its own listener',
  schema: tofuOciSettingsSchema,
  upstreamUrls: (settings) => [...settings.upstreams.map((u) => u.url), ...DEFAULT_REGISTRY_HOSTS.map((h) => `https://${h}`)],
  async create(ctx, settings) {
    const { cache, store, client } = ctx;
    const upstreams = createRegistryUpstreams(settings.upstreams);
    const policy = createPolicy(settings.allow, settings.deny);
    const signingKey = await loadSigningKey(ctx.urlSigningKey, join(ctx.dataDir, 'url-signing.key'));
    const access = createAccess({ cache, signingKey, ...ACCESS });
    const timing = { ttlMs: settings.metadata.ttl, staleIfErrorMs: settings.metadata.staleIfError, maxMetadataBytes: ctx.limits.maxMetadataBytes };
    const registry = createRegistryReader(cache, client, access, timing);
    const { failureTtl, maxArtifactBytes, ...limits } = settings.limits;
    const hasher = createStoredZipHasher(store, { limits, failureTtlMs: failureTtl });
    const packages = createProviderPackages({ cache, store, client, registry, hasher, maxArtifactBytes });
    const artifacts = createProviderArtifacts({ instance: ctx.instance, cache, registry, packages, parallelism: ctx.limits.parallelism });
    const mirror = createTofuOciMirror({ prefix: settings.repository_prefix, upstreams, policy, registry, artifacts });
    const mine = instancePrefix(ctx.instance);
    return {
      mirrors: [mirror],
      keyPrefixes: [mine, 'tf/providers/'],
      upstreamHosts: upstreams.hosts,
      purgeTarget(segments) {
        if (segments.length === 0) return { prefixes: [mine], target: 'generated manifests' };
        throw new RegcacheError('ERR_NOT_FOUND', 'purge provider zips through the terraform instance');
      },
      describe: (objects) => describeTerraform(objects.filter((o) => o.key.startsWith('tf/providers/'))),
      status: (baseUrl) => tofuOciStatus(ctx.publicUrl ?? baseUrl, settings.repository_prefix, upstreams.hosts, ctx.publicUrl === undefined),
    };
  },
});
