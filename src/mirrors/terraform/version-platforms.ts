/**
 * Everything known about one provider version across all its platforms:
 * download answers (fetched in parallel, bounded), the signed checksum of
 * each zip, and h1 / size where the zip is already cached. Shared by the
 * network mirror's {version}.json and the registry protocol's `packages`.
 */
import { RegcacheError } from '../../core/errors.js';
import { mapLimit } from '../../core/map-limit.js';
import type { CacheResult } from '../../core/route.js';
import type { ProviderPackages } from './provider-package.js';
import { combineResults, type Credential, type RegistryReader } from './registry.js';
import type { DownloadInfo } from './registry-json.js';
import { expectedSha256, type ShasumsBundle } from './shasums-bundle.js';
import type { RegistryUpstream } from './upstreams.js';

/** One platform's package facts. */
export interface PlatformPackage {
  info: DownloadInfo;
  zh: string;
  h1: string | undefined;
  size: number | undefined;
}

/** A version's packages and the verified SHA256SUMS they were checked against. */
export interface VersionPackages {
  platforms: PlatformPackage[];
  bundle: ShasumsBundle | undefined;
  result: CacheResult;
}

/** Collects every platform of `version` (404 platforms are skipped; other failures fail the whole answer). */
export async function collectPlatforms(
  deps: { registry: RegistryReader; packages: ProviderPackages; parallelism: number },
  up: RegistryUpstream,
  ns: string,
  type: string,
  version: string,
  cred: Credential,
): Promise<VersionPackages> {
  const { registry, packages } = deps;
  const v = await registry.versions(up, ns, type, cred);
  const entry = v.value.versions.find((e) => e.version === version);
  if (!entry) throw new RegcacheError('ERR_NOT_FOUND', `version ${version} of ${ns}/${type} not found upstream`);
  const results: CacheResult[] = [v.result];
  const downloads = await mapLimit(entry.platforms, deps.parallelism, async (p) => {
    try {
      const d = await registry.download(up, ns, type, version, p.os, p.arch, cred);
      results.push(d.result);
      return d.value;
    } catch (err) {
      if (err instanceof RegcacheError && err.code === 'ERR_UPSTREAM_NOT_FOUND') return undefined;
      throw err;
    }
  });
  const infos = downloads.filter((d): d is DownloadInfo => d !== undefined);
  const first = infos[0];
  if (!first) return { platforms: [], bundle: undefined, result: combineResults(results) };
  const bundle = await registry.shasums(up, ns, type, version, first, cred);
  results.push(bundle.result);
  const platforms = await mapLimit(infos, deps.parallelism, async (info) => {
    const zh = `zh:${expectedSha256(bundle.value, info)}`;
    const pkg = await packages.h1({ up, namespace: ns, type, version, os: info.os, arch: info.arch });
    return { info, zh, h1: pkg?.h1, size: pkg?.size };
  });
  return { platforms, bundle: bundle.value, result: combineResults(results) };
}
