/**
 * Provider versions as OCI artifacts, reusing the terraform mode's reads:
 * a tag is resolved with `collectPlatforms` (versions, per-platform
 * download answers, the signed SHA256SUMS, all cached metadata) and every
 * platform's zip is pulled through the terraform mode's zip route (verified
 * against the signed SHA256SUMS before commit) so each layer descriptor
 * carries the zip's exact size. The generated manifests and the
 * layer-digest → package records are then stored by digest (keys.ts).
 * Private scopes are not served: the OCI client's credential is meant for
 * regcache, so nothing is read upstream with it.
 */
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import { mapLimit } from '../../core/map-limit.js';
import type { ArtifactRoute, MetadataRoute } from '../../core/route.js';
import { guardUnsignedZip, type ProviderPackages } from '../terraform/provider-package.js';
import type { RegistryReader } from '../terraform/registry.js';
import { collectPlatforms } from '../terraform/version-platforms.js';
import { layerKey, manifestKey } from './keys.js';
import { buildProvider, type BuiltManifest, type TargetPackage } from './layout.js';
import type { ProviderRepo } from './repository.js';

/** What the artifacts need. */
export interface ProviderArtifactDeps {
  instance: string;
  cache: Cache;
  registry: RegistryReader;
  packages: ProviderPackages;
  parallelism: number;
}

/** A stored manifest. */
export interface StoredManifest {
  mediaType: string;
  body: Buffer;
}

/** The record a layer digest points to. */
interface LayerRecord {
  version: string;
  os: string;
  arch: string;
  filename: string;
}

/** Tag resolution, manifests by digest and layer blobs. */
export interface ProviderArtifacts {
  /** The version's index (pulling every platform's zip through the cache first). */
  index(p: ProviderRepo, version: string): Promise<BuiltManifest>;
  /** A manifest regcache generated for this repository, or undefined. */
  manifest(p: ProviderRepo, hex: string): Promise<StoredManifest | undefined>;
  /** The zip route of a layer digest regcache generated for this repository, or undefined. */
  layer(p: ProviderRepo, hex: string): Promise<ArtifactRoute | undefined>;
}

const STORED_TYPE = 'application/octet-stream';

function storeRoute(key: string, body: Buffer, contentType: string): MetadataRoute {
  return { kind: 'metadata', key, ttlMs: Number.POSITIVE_INFINITY, staleIfErrorMs: 0, load: () => Promise.resolve({ body, contentType }) };
}

/** Creates the artifact reader of one instance. */
export function createProviderArtifacts(deps: ProviderArtifactDeps): ProviderArtifacts {
  const { cache, packages, registry, instance } = deps;

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
    async index(p, version) {
      const collected = await collectPlatforms({ registry, packages, parallelism: deps.parallelism }, p.up, p.namespace, p.type, version, undefined);
      if (collected.private) throw new RegcacheError('ERR_NOT_FOUND', 'private providers are not served over OCI');
      if (collected.platforms.length === 0) throw new RegcacheError('ERR_NOT_FOUND', `no packages for ${p.address} ${version}`);
      const pkgs = await mapLimit(collected.platforms, deps.parallelism, async ({ info, zh }): Promise<TargetPackage> => {
        const route = packages.zipRoute({ up: p.up, namespace: p.namespace, type: p.type, version, os: info.os, arch: info.arch }, info.filename, undefined);
        return { os: info.os, arch: info.arch, filename: info.filename, sha256: zh.slice('zh:'.length), size: await pulled(route) };
      });
      const built = buildProvider(pkgs);
      await mapLimit([built.index, ...built.targets], deps.parallelism, (m) => cache.metadata(storeRoute(manifestKey(instance, p, m.digest.slice(7)), m.body, m.mediaType)));
      await mapLimit(built.targets, deps.parallelism, ({ pkg }) => {
        const record: LayerRecord = { version, os: pkg.os, arch: pkg.arch, filename: pkg.filename };
        return cache.metadata(storeRoute(layerKey(instance, p, pkg.sha256), Buffer.from(JSON.stringify(record)), STORED_TYPE));
      });
      return built.index;
    },

    async manifest(p, hex) {
      const found = await cache.cached(manifestKey(instance, p, hex));
      return found === undefined ? undefined : { mediaType: found.contentType, body: found.body };
    },

    async layer(p, hex) {
      const found = await cache.cached(layerKey(instance, p, hex));
      if (found === undefined) return undefined;
      const r = JSON.parse(found.body.toString('utf8')) as LayerRecord;
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
