/**
 * The `provider_mirror` mode: a Terraform / OpenTofu provider network
 * mirror whose origin is an OCI Distribution registry (the experimental
 * oci-distribution-terraform-registry's `provider_mirror`, with its keys).
 * Providers live in `<name_prefix>/<hostname>/<namespace>/<type>`, one tag
 * per version, in OpenTofu's layout or the experimental one (layouts.ts).
 * Tag lists and manifests are cached metadata (registry-reads.ts); zips are
 * cached artifacts verified against their layer digest (zip-route.ts).
 * Private repositories follow src/access/: the client's Authorization goes
 * to `origin_url` only, and what only it could read is served only to
 * clients the registry accepts (or holding a signed URL).
 */
import { join } from 'node:path';
import { createAccess } from '../../access/access.js';
import { createScopePrivacy } from '../../access/scope-privacy.js';
import { loadSigningKey } from '../../access/signing-key.js';
import { defineMode } from '../mode.js';
import { createRegistryClient } from '../oci/registry-client.js';
import { createGrants } from './grants.js';
import { describeProviders, providerPurgeTarget } from './listing.js';
import { createProviderMirror } from './network-mirror.js';
import { instancePrefix } from './names.js';
import { createProviderReads } from './registry-reads.js';
import { providerMirrorSettingsSchema } from './settings.js';
import { providerMirrorStatus } from './snippets.js';

/** The access layer's settings, as the terraform mode's defaults (this mode's keys are fixed). */
const ACCESS = { authCacheTtlMs: 60_000, signedUrlTtlMs: 15 * 60_000, negativeTtlMs: 5_000, checksPerMinute: 10 };

/** The registration of the `provider_mirror` mode. */
export const providerMirrorMode = defineMode({
  name: 'provider_mirror',
  summary: 'Terraform / OpenTofu provider network mirror over an OCI registry (OpenTofu and experimental layouts)',
  schema: providerMirrorSettingsSchema,
  upstreamUrls: (settings) => [settings.origin_url],
  async create(ctx, settings) {
    const signingKey = await loadSigningKey(ctx.urlSigningKey, join(ctx.dataDir, 'url-signing.key'));
    const access = createAccess({ cache: ctx.cache, signingKey, ...ACCESS });
    const registry = createRegistryClient({ client: ctx.client, base: settings.origin_url, credentials: { type: 'none' } });
    const mirror = createProviderMirror({
      instance: ctx.instance,
      namePrefix: settings.name_prefix,
      proxyPackages: settings.proxy_packages,
      mount: ctx.mount.split('/').filter((s) => s !== ''),
      reads: createProviderReads({ registry, client: ctx.client, access }),
      access,
      cache: ctx.cache,
      grants: createGrants({ signingKey, cache: ctx.cache, store: ctx.store, prefix: instancePrefix(ctx.instance), urlTtlMs: ACCESS.signedUrlTtlMs }),
      registry,
      client: ctx.client,
      privacy: createScopePrivacy(ctx.cache),
      parallelism: ctx.limits.parallelism,
      expireAfterMs: ctx.expireAfterMs,
    });
    return {
      mirrors: [mirror],
      keyPrefixes: [instancePrefix(ctx.instance)],
      upstreamHosts: [new URL(settings.origin_url).host],
      purgeTarget: (segments) => providerPurgeTarget(ctx.instance, segments),
      describe: (objects) => describeProviders(ctx.instance, objects),
      status: (baseUrl) => providerMirrorStatus(ctx.publicUrl ?? baseUrl, ctx.mount, settings.origin_url, settings.name_prefix),
    };
  },
});
