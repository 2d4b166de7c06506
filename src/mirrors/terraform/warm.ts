/**
 * Cache warming: resolve provider versions (a constraint, or the exact
 * versions of a `.terraform.lock.hcl`) and pull each requested platform's
 * zip through the cache, exactly as a client request would (verified,
 * single-flight, policy-checked).
 */
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { ModeJobProgress as JobProgress } from '../mode.js';
import { newestMatching, parseConstraint } from './constraints.js';
import { parseHost, parseName, parsePlatform } from './names.js';
import type { Policy } from './policy.js';
import type { ProviderPackages } from './provider-package.js';
import type { RegistryReader } from './registry.js';
import type { RegistryUpstreams } from './upstreams.js';

/** One provider to warm. */
export interface WarmItem {
  /** `host/namespace/type` (host optional: registry.terraform.io). */
  source: string;
  /** A Terraform version constraint; the newest matching version is warmed. */
  version: string;
  /** `os_arch` list; default linux_amd64. */
  platforms?: string[];
}

/** Reads `provider "addr" { version = "x" }` blocks of a lock file. */
export function parseLockFile(text: string): WarmItem[] {
  const items: WarmItem[] = [];
  const re = /provider\s+"([^"]+)"\s*\{([^}]*)\}/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const version = /\bversion\s*=\s*"([^"]+)"/.exec(m[2] ?? '')?.[1];
    if (m[1] && version) items.push({ source: m[1], version: `= ${version}` });
  }
  if (items.length === 0) throw new RegcacheError('ERR_BAD_REQUEST', 'no provider blocks with a version found in the lock file');
  return items;
}

/** Dependencies for warming. */
export interface WarmDeps {
  cache: Cache;
  upstreams: RegistryUpstreams;
  registry: RegistryReader;
  packages: ProviderPackages;
  policy: Policy;
}

/** Checks items up front (so a bad request is a 400, not a failed job). */
export function validateWarmItems(items: readonly WarmItem[]): void {
  if (items.length === 0 || items.length > 1000) throw new RegcacheError('ERR_BAD_REQUEST', 'give 1 to 1000 providers');
  for (const it of items) {
    const parts = it.source.split('/');
    if (parts.length === 3) parseHost(parts[0] ?? '');
    if (parts.length < 2 || parts.length > 3) throw new RegcacheError('ERR_BAD_REQUEST', `invalid provider source ${JSON.stringify(it.source)}`);
    parseConstraint(it.version);
    for (const p of it.platforms ?? []) parsePlatform(p);
  }
}

/** Pulls every item's platforms through the cache, reporting progress. */
export async function warmProviders(deps: WarmDeps, items: readonly WarmItem[], progress: JobProgress): Promise<void> {
  for (const item of items) {
    const parts = item.source.split('/');
    const [host, nsRaw, typeRaw] = parts.length === 3 ? parts : ['registry.terraform.io', ...parts];
    const platforms = item.platforms && item.platforms.length > 0 ? item.platforms : ['linux_amd64'];
    progress.addTotal(platforms.length);
    try {
      const up = deps.upstreams.resolve(host ?? '');
      const ns = parseName('namespace', nsRaw ?? '');
      const type = parseName('type', typeRaw ?? '');
      const address = `${up.host}/${ns}/${type}`;
      deps.policy.check(address);
      const versions = (await deps.registry.versions(up, ns, type, undefined)).value.versions.map((v) => v.version);
      const version = newestMatching(deps.policy.filter(address, versions), parseConstraint(item.version));
      if (!version) throw new RegcacheError('ERR_NOT_FOUND', `${address}: no version matches ${item.version}`);
      for (const plat of platforms) {
        try {
          const { os, arch } = parsePlatform(plat);
          const info = (await deps.registry.download(up, ns, type, version, os, arch, undefined)).value;
          const route = deps.packages.zipRoute({ up, namespace: ns, type, version, os, arch }, info.filename, undefined);
          const head = await deps.cache.artifact(route, { head: true });
          if (head.result !== 'hit') {
            const full = await deps.cache.artifact(route, { head: false });
            for await (const chunk of full.body ?? []) void chunk;
          }
          progress.succeeded();
        } catch (err) {
          progress.failedOne(`${address} ${version} ${plat}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      for (let i = 0; i < platforms.length; i++) progress.failedOne(`${item.source}: ${(err as Error).message}`);
    }
  }
}
