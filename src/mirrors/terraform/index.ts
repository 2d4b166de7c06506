/**
 * The Terraform/OpenTofu adapter family, assembled from configuration: the
 * network mirror, the provider registry protocol, the module registry
 * protocol and regcache's own discovery document, plus cache warming.
 */
import { join } from 'node:path';
import { createAccess } from '../../access/access.js';
import { loadSigningKey } from '../../access/signing-key.js';
import type { ModeContext, ModeJobProgress as JobProgress } from '../mode.js';
import type { Mirror } from '../mirror.js';
import { createDiscoveryDoc } from './discovery-doc.js';
import { createGitRemote } from './git-remote.js';
import { createStoredZipHasher } from './h1-store.js';
import { createModuleArchives } from './module-archive.js';
import { createModuleReader } from './module-reader.js';
import { createModuleRegistry } from './module-registry.js';
import { createNetworkMirror } from './network-mirror.js';
import { createPolicy } from './policy.js';
import { createProviderPackages } from './provider-package.js';
import { createProviderRegistry } from './provider-registry.js';
import { createRegistryReader } from './registry.js';
import type { TerraformSettings } from './settings.js';
import { createRegistryUpstreams, DEFAULT_REGISTRY_HOSTS } from './upstreams.js';
import { warmProviders, type WarmItem } from './warm.js';

/** The assembled adapters and what the admin API needs from them. */
export interface TerraformMirrors {
  mirrors: Mirror[];
  upstreamHosts: readonly string[];
  warm(items: WarmItem[], progress: JobProgress): Promise<void>;
}


/** Builds every Terraform adapter over the shared cache, store and client. */
export async function createTerraformMirrors(ctx: ModeContext, tf: TerraformSettings): Promise<TerraformMirrors> {
  const { cache, store, client } = ctx;
  const upstreams = createRegistryUpstreams(tf.upstreams);
  const policy = createPolicy(tf.allow, tf.deny);
  const access = createAccess({
    cache,
    signingKey: await loadSigningKey(ctx.urlSigningKey, join(ctx.dataDir, 'url-signing.key')),
    authCacheTtlMs: tf.private.authCacheTtl,
    signedUrlTtlMs: tf.private.signedUrlTtl,
    negativeTtlMs: tf.private.negativeTtl,
    checksPerMinute: tf.private.checksPerMinute,
  });
  const timing = { ttlMs: tf.metadata.ttl, staleIfErrorMs: tf.metadata.staleIfError, maxMetadataBytes: ctx.limits.maxMetadataBytes };
  const registry = createRegistryReader(cache, client, access, timing);
  const { failureTtl, maxArtifactBytes, ...limits } = tf.limits;
  const hasher = createStoredZipHasher(store, { limits, failureTtlMs: failureTtl });
  const packages = createProviderPackages({ cache, store, client, registry, hasher, maxArtifactBytes });
  const shared = { upstreams, registry, packages, access, policy, parallelism: ctx.limits.parallelism, cache };
  const git = createGitRemote({
    timeoutMs: tf.git.timeout,
    allowHttp: tf.git.allowHttp,
    maxProcesses: tf.git.maxProcesses,
    failureTtlMs: tf.git.failureTtl,
    limits,
  });
  return {
    mirrors: [
      createNetworkMirror(shared),
      createProviderRegistry(shared),
      createModuleRegistry({
        upstreams,
        access,
        policy,
        modules: createModuleReader({ cache, client, registry, timing, git }),
        archives: createModuleArchives({ cache, client, git, maxArtifactBytes }),
        gitHosts: tf.git.hosts,
        allowHttpGit: tf.git.allowHttp,
      }),
      createDiscoveryDoc(tf.upstreams[0]?.host ?? DEFAULT_REGISTRY_HOSTS[0]),
    ],
    upstreamHosts: upstreams.hosts,
    warm: (items, progress) => warmProviders({ cache, upstreams, registry, packages, policy }, items, progress),
  };
}
