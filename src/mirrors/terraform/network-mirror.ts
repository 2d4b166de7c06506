/**
 * The provider network mirror protocol, pulled through from upstream
 * registries:
 *   GET /v1/mirror/:host/:namespace/:type/index.json
 *   GET /v1/mirror/:host/:namespace/:type/:version.json
 *   GET /v1/mirror/:host/:namespace/:type/:version/:os_:arch/:filename   (zip)
 * `:version.json` is composed from cached versions, per-platform download
 * answers (fetched in parallel, bounded) and the verified SHA256SUMS; archive
 * URLs are relative, so the mirror works behind any host name.
 */
import { RegcacheError } from '../../core/errors.js';
import { mapLimit } from '../../core/map-limit.js';
import type { CacheResult } from '../../core/route.js';
import { jsonAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import { isFilename, parseName, parsePlatform, parseVersion } from './names.js';
import type { ProviderPackages } from './provider-package.js';
import { combineResults, type RegistryReader } from './registry.js';
import type { DownloadInfo } from './registry-json.js';
import { expectedSha256 } from './shasums-bundle.js';
import type { RegistryUpstream, RegistryUpstreams } from './upstreams.js';

/** Dependencies of the network mirror adapter. */
export interface NetworkMirrorDeps {
  upstreams: RegistryUpstreams;
  registry: RegistryReader;
  packages: ProviderPackages;
  parallelism: number;
}

/** Creates the adapter mounted at /v1/mirror/. */
export function createNetworkMirror(deps: NetworkMirrorDeps): Mirror {
  const { upstreams, registry, packages } = deps;

  async function indexJson(up: RegistryUpstream, ns: string, type: string): Promise<MirrorAnswer> {
    const v = await registry.versions(up, ns, type);
    const versions: Record<string, object> = {};
    for (const entry of v.value.versions) versions[entry.version] = {};
    return jsonAnswer({ versions }, v.result);
  }

  async function versionJson(up: RegistryUpstream, ns: string, type: string, version: string): Promise<MirrorAnswer> {
    const v = await registry.versions(up, ns, type);
    const entry = v.value.versions.find((e) => e.version === version);
    if (!entry) throw new RegcacheError('ERR_NOT_FOUND', `version ${version} of ${ns}/${type} not found upstream`);
    const results: CacheResult[] = [v.result];
    const downloads = await mapLimit(entry.platforms, deps.parallelism, async (p) => {
      try {
        const d = await registry.download(up, ns, type, version, p.os, p.arch);
        results.push(d.result);
        return d.value;
      } catch (err) {
        if (err instanceof RegcacheError && err.code === 'ERR_UPSTREAM_NOT_FOUND') return undefined;
        throw err;
      }
    });
    const infos = downloads.filter((d): d is DownloadInfo => d !== undefined);
    const archives: Record<string, { url: string; hashes: string[] }> = {};
    const first = infos[0];
    if (first) {
      const bundle = await registry.shasums(up, ns, type, version, first);
      results.push(bundle.result);
      await mapLimit(infos, deps.parallelism, async (info) => {
        const zh = `zh:${expectedSha256(bundle.value, info)}`;
        const h1 = await packages.h1({ up, namespace: ns, type, version, os: info.os, arch: info.arch });
        archives[`${info.os}_${info.arch}`] = {
          url: `${encodeURIComponent(version)}/${info.os}_${info.arch}/${info.filename}`,
          hashes: h1 ? [h1.h1, zh] : [zh],
        };
      });
    }
    return jsonAnswer({ archives }, combineResults(results));
  }

  return {
    name: 'terraform-mirror',
    prefix: ['v1', 'mirror'],
    async handle(req: MirrorRequest): Promise<MirrorAnswer> {
      const s = req.segments;
      if (s.length < 4 || s.length > 6 || s.length === 5) throw new RegcacheError('ERR_NOT_FOUND');
      const up = upstreams.resolve(s[0] ?? '');
      const ns = parseName('namespace', s[1] ?? '');
      const type = parseName('type', s[2] ?? '');
      if (s.length === 4) {
        const last = s[3] ?? '';
        if (last === 'index.json') return indexJson(up, ns, type);
        if (last.endsWith('.json')) return versionJson(up, ns, type, parseVersion(last.slice(0, -'.json'.length)));
        throw new RegcacheError('ERR_NOT_FOUND');
      }
      const version = parseVersion(s[3] ?? '');
      const { os, arch } = parsePlatform(s[4] ?? '');
      const filename = s[5] ?? '';
      if (!isFilename(filename)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid file name');
      return { kind: 'artifact', route: packages.zipRoute({ up, namespace: ns, type, version, os, arch }, filename) };
    },
  };
}
