/**
 * The `tofu_oci` mode: regcache as an OCI registry for OpenTofu, on a
 * listener of its own (`bind`: clients need `/v2/` at the root).
 * Repositories `<repository_prefix>/<hostname>/<namespace>/<type>` serve
 * the provider versions of the normal registries in OpenTofu's layout for
 * `oci_mirror` (layout.ts), and
 * `<module_repository_prefix>/<hostname>/<namespace>/<name>/<system>` their
 * module versions as `oci://` module packages. Both are pulled through on
 * first use exactly as the terraform mode does: its registry reads, signed
 * SHA256SUMS, zip route and module archives are reused (../terraform/), so
 * zips and archives are shared with it (`tf/…`). Generated manifests and
 * layer records are stored under `tofu-oci/<instance>/` (keys.ts). See
 * docs/modes/tofu-oci.md.
 */
import { join } from 'node:path';
import { createAccess } from '../../access/access.js';
import { loadSigningKey } from '../../access/signing-key.js';
import { RegcacheError } from '../../core/errors.js';
import { defineMode } from '../mode.js';
import { createGitRemote } from '../terraform/git-remote.js';
import { createStoredZipHasher } from '../terraform/h1-store.js';
import { describeTerraform } from '../terraform/listing.js';
import { createModuleArchives } from '../terraform/module-archive.js';
import { createModuleReader } from '../terraform/module-reader.js';
import { createPolicy } from '../terraform/policy.js';
import { createProviderPackages } from '../terraform/provider-package.js';
import { createRegistryReader } from '../terraform/registry.js';
import { createRegistryUpstreams, DEFAULT_REGISTRY_HOSTS } from '../terraform/upstreams.js';
import { instancePrefix } from './keys.js';
import { moduleHandle } from './module-artifacts.js';
import { providerHandle } from './provider-artifacts.js';
import { parseRepo } from './repository.js';
import { tofuOciSettingsSchema } from './settings.js';
import { tofuOciStatus } from './snippets.js';
import { createTofuOciMirror } from './tofu-oci-mirror.js';

/** The access layer's settings, as the terraform mode's defaults (private scopes are not served here). */
const ACCESS = { authCacheTtlMs: 60_000, signedUrlTtlMs: 15 * 60_000, negativeTtlMs: 5_000, checksPerMinute: 10 };
/** Git module sources are not served over OCI: the reader gets a git remote it never uses for them. */
const NO_GIT = { timeoutMs: 60_000, allowHttp: false, maxProcesses: 1, failureTtlMs: 30_000 };

/** The registration of the `tofu_oci` mode. */
export const tofuOciMode = defineMode({
  name: 'tofu_oci',
  summary: 'OpenTofu providers (oci_mirror) and modules (oci://) as OCI artifacts, pulled through from registries, on its own listener',
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
    const git = createGitRemote({ ...NO_GIT, limits });
    const providerDeps = { instance: ctx.instance, cache, registry, packages, policy, parallelism: ctx.limits.parallelism };
    const moduleDeps = {
      instance: ctx.instance,
      cache,
      policy,
      modules: createModuleReader({ cache, client, registry, timing, git }),
      archives: createModuleArchives({ cache, client, git, maxArtifactBytes }),
      limits: { maxInflatedBytes: limits.maxInflatedBytes, maxEntries: limits.maxEntries },
    };
    const layout = { providerPrefix: settings.repository_prefix, modulePrefix: settings.module_repository_prefix, upstreams, policy };
    const mirror = createTofuOciMirror({
      repository(repo) {
        const parsed = parseRepo(repo, layout);
        const address = parsed.kind === 'provider' ? parsed.p.address : parsed.m.address;
        return {
          handle: parsed.kind === 'provider' ? providerHandle(providerDeps, parsed.p) : moduleHandle(moduleDeps, parsed.m),
          checkVersion: (version) => policy.check(address, version),
        };
      },
    });
    const mine = instancePrefix(ctx.instance);
    return {
      mirrors: [mirror],
      keyPrefixes: [mine, 'tf/providers/', 'tf/modules/'],
      upstreamHosts: upstreams.hosts,
      purgeTarget(segments) {
        if (segments.length === 0) return { prefixes: [mine], target: 'generated manifests and module zips' };
        throw new RegcacheError('ERR_NOT_FOUND', 'purge provider zips and module archives through the terraform instance');
      },
      describe: (objects) => describeTerraform(objects.filter((o) => o.key.startsWith('tf/'))),
      status: (baseUrl) => tofuOciStatus(ctx.publicUrl ?? baseUrl, settings.repository_prefix, settings.module_repository_prefix, upstreams.hosts, ctx.publicUrl === undefined),
    };
  },
});
