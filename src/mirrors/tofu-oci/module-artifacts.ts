/**
 * Module versions as OpenTofu module packages (`oci://` sources): one
 * image manifest per version (artifactType
 * `application/vnd.opentofu.modulepkg`, config = the empty descriptor,
 * one `archive/zip` layer), from the terraform mode's cached module
 * archives (module-reader.ts, module-archive.ts: the registry's download
 * location, fetched once). A zip archive is the layer as is; a .tar.gz is
 * repacked deterministically (tar-to-zip.ts), stored by its digest, and
 * rebuilt from the cached archive (and checked against that digest) if it
 * is ever purged. Only http(s) archives at the package root are served:
 * git sources, sub-directories and other formats answer 404.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute } from '../../core/route.js';
import type { createModuleArchives } from '../terraform/module-archive.js';
import type { ModuleId, ModuleReader } from '../terraform/module-reader.js';
import { parseModuleSource } from '../terraform/module-source.js';
import type { Policy } from '../terraform/policy.js';
import { scopePrefix, zipKey } from './keys.js';
import { buildModule, tagOf } from './layout.js';
import type { ModuleRepo, RepoHandle } from './repository.js';
import { storedLayerRecord, storedManifest, storeLayerRecord, storeManifests } from './stored.js';
import { readTarGz, zipEntries, type RepackLimits } from './tar-to-zip.js';
import { readCapped } from '../../core/read-capped.js';

/** What module artifacts need. */
export interface ModuleArtifactDeps {
  instance: string;
  cache: Cache;
  modules: ModuleReader;
  archives: ReturnType<typeof createModuleArchives>;
  policy: Policy;
  limits: RepackLimits;
}

/** Module packages are repacked in memory: archives and their contents are bounded by this too. */
export const MAX_MODULE_BYTES = 512 * 1024 * 1024;

const PRIVATE = (): RegcacheError => new RegcacheError('ERR_NOT_FOUND', 'private modules are not served over OCI');

/** The repository handle of one module. */
export function moduleHandle(deps: ModuleArtifactDeps, m: ModuleRepo): RepoHandle {
  const { cache } = deps;
  const id: ModuleId = { up: m.up, namespace: m.namespace, name: m.name, system: m.system };
  const scope = scopePrefix(deps.instance, 'modules', m.up.host, [m.namespace, m.name, m.system]);

  /** The version's package as a zip, from the cached archive (pulled through on first use). */
  async function packageZip(version: string): Promise<Buffer> {
    const loc = await deps.modules.location(id, version, undefined);
    if (loc.private) throw PRIVATE();
    const source = parseModuleSource(loc.value.location, loc.value.finalUrl);
    if (source.kind !== 'archive' || (source.format !== 'zip' && source.format !== 'tar.gz')) {
      throw new RegcacheError('ERR_NOT_FOUND', 'only .zip and .tar.gz module archives are served over OCI');
    }
    if (source.subdir !== undefined) throw new RegcacheError('ERR_NOT_FOUND', 'module archives with a sub-directory are not served over OCI');
    const reply = await cache.artifact(deps.archives.httpRoute(id, version, source.url, source.format), { head: false });
    const tooLarge = (): RegcacheError => new RegcacheError('ERR_UPSTREAM_TOO_LARGE', 'module archive too large to serve over OCI');
    const archive = await readCapped(reply.body, MAX_MODULE_BYTES, tooLarge, reply.size);
    const limits = { ...deps.limits, maxInflatedBytes: Math.min(deps.limits.maxInflatedBytes, MAX_MODULE_BYTES) };
    return source.format === 'zip' ? archive : zipEntries(readTarGz(archive, limits));
  }

  function zipRoute(version: string, hex: string, built?: Buffer): ArtifactRoute {
    return {
      kind: 'artifact',
      key: zipKey(scope, hex),
      contentType: 'application/zip',
      class: 'artifact',
      async fetch() {
        const zip = built ?? (await packageZip(version));
        return { body: Readable.from([zip]), size: zip.length };
      },
      verify(summary) {
        if (summary.sha256 !== hex) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', 'module zip does not match its layer digest');
      },
      headers: { 'docker-content-digest': `sha256:${hex}` },
    };
  }

  return {
    async tags() {
      const v = await deps.modules.versions(id, undefined);
      if (v.private) throw PRIVATE();
      const versions = deps.policy.filter(m.address, v.value.modules[0]?.versions.map((e) => e.version) ?? []);
      return { tags: [...new Set(versions.map(tagOf))].sort(), result: v.result };
    },

    async byVersion(version) {
      const zip = await packageZip(version);
      const hex = createHash('sha256').update(zip).digest('hex');
      const stored = await cache.artifact(zipRoute(version, hex, zip), { head: false });
      for await (const chunk of stored.body ?? []) void chunk;
      const manifest = buildModule({ sha256: hex, size: zip.length });
      await storeManifests(cache, scope, [manifest]);
      await storeLayerRecord(cache, scope, hex, { version });
      return manifest;
    },

    manifest: (hex) => storedManifest(cache, scope, hex),

    async layer(hex) {
      const r = await storedLayerRecord<{ version: string }>(cache, scope, hex);
      return r === undefined ? undefined : zipRoute(r.version, hex);
    },
  };
}
