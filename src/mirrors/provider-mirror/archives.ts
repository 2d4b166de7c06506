/**
 * The archives of one provider version across all its platforms, from
 * either layout: the seed's manifest lists them itself; OpenTofu's index
 * names one manifest per platform, read in parallel (bounded) because
 * Terraform gives a `{version}.json` 10 seconds even on a cold cache.
 */
import type { Credential } from '../../access/credential.js';
import { mapLimit } from '../../core/map-limit.js';
import type { CacheResult } from '../../core/route.js';
import type { Archive } from './layouts.js';
import type { ProviderAddr } from './names.js';
import type { ProviderReads } from './registry-reads.js';

/** A version's archives, how the cache produced them, and whether anything read was private. */
export interface VersionArchives {
  archives: Archive[];
  result: CacheResult;
  private: boolean;
}

/** Combines the cache results of the parts of an answer. */
function combine(results: readonly CacheResult[]): CacheResult {
  if (results.includes('miss')) return 'miss';
  if (results.includes('stale')) return 'stale';
  return 'hit';
}

/** Every platform's archive of `version`. */
export async function versionArchives(reads: ProviderReads, parallelism: number, addr: ProviderAddr, version: string, cred: Credential): Promise<VersionArchives> {
  const doc = await reads.version(addr, version, cred);
  if (doc.value.layout === 'seed') return { archives: doc.value.archives, result: doc.result, private: doc.private };
  const targets = await mapLimit(doc.value.targets, parallelism, (t) => reads.target(addr, t, cred));
  return {
    archives: targets.map((t) => t.value),
    result: combine([doc.result, ...targets.map((t) => t.result)]),
    private: doc.private || targets.some((t) => t.private),
  };
}

/** The file name a platform's zip is served under (Terraform's release naming). */
export function zipFilename(addr: ProviderAddr, version: string, platform: string): string {
  return `terraform-provider-${addr.type}_${version}_${platform}.zip`;
}
