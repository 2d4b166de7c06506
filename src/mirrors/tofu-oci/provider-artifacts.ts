/**
 * Provider versions as OCI artifacts, reusing the terraform mode's reads:
 * a tag is resolved with `collectPlatforms` (versions, per-platform
 * download answers, the signed SHA256SUMS, all cached metadata) and every
 * platform's zip is pulled through the terraform mode's zip route (verified
 * against the signed SHA256SUMS before commit) so each layer descriptor
 * carries the zip's exact size. The generated manifests and the
 * layer-digest → package records are then stored by digest (stored.ts).
 * Private scopes are not served: the OCI client's credential is meant for
 * regcache, so nothing is read upstream with it.
 */
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import { mapLimit } from '../../core/map-limit.js';
import type { ArtifactRoute } from '../../core/route.js';
import type { Policy } from '../terraform/policy.js';
import { guardUnsignedZip, type ProviderPackages } from '../terraform/provider-package.js';
import type { RegistryReader } from '../terraform/registry.js';
import { collectPlatforms } from '../terraform/version-platforms.js';
import { scopePrefix } from './keys.js';
import { buildProvider, tagOf, type TargetPackage } from './layout.js';
import type { ProviderRepo, RepoHandle } from './repository.js';
import { storedLayerRecord, storedManifest, storeLayerRecord, storeManifests } from './stored.js';

/** What the artifacts need. */
export interface ProviderArtifactDeps {
  instance: string;
  cache: Cache;
  registry: RegistryReader;
  packages: ProviderPackages;
  policy: Policy;
  parallelism: number;
}

/** The record a layer digest points to. */
interface LayerRecord {
  version: string;
  os: string;
  arch: string;
  filename: string;
}

const PRIVATE = (): RegcacheError => new RegcacheError('ERR_NOT_FOUND', 'private providers are not served over OCI');

/** The repository handle of one provider. */
export function providerHandle(deps: ProviderArtifactDeps, p: ProviderRepo): RepoHandle {
  const { cache, packages, registry } = deps;
  const scope = scopePrefix(deps.instance, 'providers', p.up.host, [p.namespace, p.type]);

  /** Pulls one zip through the cache (a hit when cached) and returns its size. */
  async function pulled(route: ArtifactRoute): Promise<number> {
    const head = await cache.artifact(route, { head: true });
    if (head.result === 'hit' && head.size !== undefined) return head.size;
    const full = await cache.artifact(route, { head: false });
    for await (const chunk of full.body ?? []) void chunk;
    const size = full.size ?? (await cache.peek(route.key))?.size;
    if (size === undefined) throw new RegcacheError('ERR_INTERNAL', 'zip size unknown after download');
    return size;
  }

  return {
    async tags() {
      const v = await registry.versions(p.up, p.namespace, p.type, undefined);
      if (v.private) throw PRIVATE();
      const versions = deps.policy.filter(p.address, v.value.versions.map((e) => e.version));
      return { tags: [...new Set(versions.map(tagOf))].sort(), result: v.result };
    },

    async byVersion(version) {
      const collected = await collectPlatforms({ registry, packages, parallelism: deps.parallelism }, p.up, p.namespace, p.type, version, undefined);
      if (collected.private) throw PRIVATE();
      if (collected.platforms.length === 0) throw new RegcacheError('ERR_NOT_FOUND', `no packages for ${p.address} ${version}`);
      const pkgs = await mapLimit(collected.platforms, deps.parallelism, async ({ info, zh }): Promise<TargetPackage> => {
        const route = packages.zipRoute({ up: p.up, namespace: p.namespace, type: p.type, version, os: info.os, arch: info.arch }, info.filename, undefined);
        return { os: info.os, arch: info.arch, filename: info.filename, sha256: zh.slice('zh:'.length), size: await pulled(route) };
      });
      const built = buildProvider(pkgs);
      await storeManifests(cache, scope, [built.index, ...built.targets]);
      for (const { pkg } of built.targets) {
        const record: LayerRecord = { version, os: pkg.os, arch: pkg.arch, filename: pkg.filename };
        await storeLayerRecord(cache, scope, pkg.sha256, record);
      }
      return built.index;
    },

    manifest: (hex) => storedManifest(cache, scope, hex),

    async layer(hex) {
      const r = await storedLayerRecord<LayerRecord>(cache, scope, hex);
      if (r === undefined) return undefined;
      const id = { up: p.up, namespace: p.namespace, type: p.type, version: r.version, os: r.os, arch: r.arch };
      await guardUnsignedZip(registry, id, undefined);
      const route = packages.zipRoute(id, r.filename, undefined);
      const signed = route.verify.bind(route);
      // The layer digest is the signed SHA256SUMS value: checked again here, then by the terraform route.
      route.verify = async (summary) => {
        if (summary.sha256 !== hex) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', 'zip does not match the layer digest');
        await signed(summary);
      };
      route.headers = { 'docker-content-digest': `sha256:${hex}` };
      return route;
    },
  };
}
