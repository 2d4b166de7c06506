/**
 * The Terraform/OpenTofu adapter family, assembled from configuration: the
 * network mirror, the provider registry protocol, the module registry
 * protocol and regcache's own discovery document, plus cache warming.
 */
import type { Config } from '../../config/schema.js';
import type { Cache } from '../../core/cache.js';
import type { JobProgress } from '../../ops/jobs.js';
import type { Store } from '../../core/store.js';
import type { UpstreamClient } from '../../upstream/client.js';
import type { Mirror } from '../mirror.js';
import { createAccess } from './access.js';
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
import { loadSigningKey } from './signing-key.js';
import { createRegistryUpstreams, DEFAULT_REGISTRY_HOSTS } from './upstreams.js';
import { warmProviders, type WarmItem } from './warm.js';

/** The assembled adapters and what the admin API needs from them. */
export interface TerraformMirrors {
  mirrors: Mirror[];
  upstreamHosts: readonly string[];
  warm(items: WarmItem[], progress: JobProgress): Promise<void>;
}

/** Builds every Terraform adapter over the shared cache, store and client. */
export async function createTerraformMirrors(deps: { config: Config; cache: Cache; store: Store; client: UpstreamClient; signingKeyFile: string }): Promise<TerraformMirrors> {
  const { config, cache, store, client } = deps;
  const tf = config.terraform;
  const upstreams = createRegistryUpstreams(tf.upstreams);
  const policy = createPolicy(tf.allow, tf.deny);
  const access = createAccess({
    cache,
    signingKey: await loadSigningKey(config.server.urlSigningKey, deps.signingKeyFile),
    authCacheTtlMs: tf.private.authCacheTtl,
    signedUrlTtlMs: tf.private.signedUrlTtl,
  });
  const timing = { ttlMs: tf.metadata.ttl, staleIfErrorMs: tf.metadata.staleIfError, maxMetadataBytes: config.upstream.maxMetadataBytes };
  const registry = createRegistryReader(cache, client, access, timing);
  const { failureTtl, ...limits } = tf.limits;
  const hasher = createStoredZipHasher(store, { limits, failureTtlMs: failureTtl });
  const packages = createProviderPackages({ cache, store, client, registry, hasher });
  const shared = { upstreams, registry, packages, access, policy, parallelism: config.upstream.parallelism, cache };
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
        archives: createModuleArchives({ cache, client, git }),
        gitHosts: tf.git.hosts,
        allowHttpGit: tf.git.allowHttp,
      }),
      createDiscoveryDoc(tf.upstreams[0]?.host ?? DEFAULT_REGISTRY_HOSTS[0]),
    ],
    upstreamHosts: upstreams.hosts,
    warm: (items, progress) => warmProviders({ cache, upstreams, registry, packages, policy }, items, progress),
  };
}
