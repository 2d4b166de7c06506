/**
 * A request's repository read as a provider or module address:
 * `<provider prefix>/<hostname>/<namespace>/<type>` or
 * `<module prefix>/<hostname>/<namespace>/<name>/<system>`, each part
 * checked with the terraform mode's grammar (names.ts) and the host with
 * its allow-list (upstreams.ts), then the allow/deny policy. Anything else
 * is refused (400 / 403 / 404) before any upstream request. A repository
 * is then served through a RepoHandle (provider-artifacts.ts,
 * module-artifacts.ts).
 */
import type { ArtifactRoute, CacheResult } from '../../core/route.js';
import { RegcacheError } from '../../core/errors.js';
import { parseHost, parseName } from '../terraform/names.js';
import type { Policy } from '../terraform/policy.js';
import type { RegistryUpstream, RegistryUpstreams } from '../terraform/upstreams.js';
import type { BuiltManifest } from './layout.js';
import type { StoredManifest } from './stored.js';

/** A provider named by a repository. */
export interface ProviderRepo {
  up: RegistryUpstream;
  namespace: string;
  type: string;
  /** "host/namespace/type", the address policies match. */
  address: string;
}

/** A module named by a repository. */
export interface ModuleRepo {
  up: RegistryUpstream;
  namespace: string;
  name: string;
  system: string;
  /** "host/namespace/name/system". */
  address: string;
}

/** What the OCI API asks of one repository. */
export interface RepoHandle {
  /** Tags (versions, `+` as `_`), after the policy. */
  tags(): Promise<{ tags: string[]; result: CacheResult }>;
  /** The manifest a tag names (the tag already validated as a version). */
  byVersion(version: string): Promise<BuiltManifest>;
  manifest(hex: string): Promise<StoredManifest | undefined>;
  layer(hex: string): Promise<ArtifactRoute | undefined>;
}

/** How repositories are laid out. */
export interface RepoLayout {
  providerPrefix: string;
  modulePrefix: string;
  upstreams: RegistryUpstreams;
  policy: Policy;
}

const split = (prefix: string): string[] => (prefix === '' ? [] : prefix.split('/'));

function under(parts: readonly string[], head: readonly string[], rest: number): string[] | undefined {
  if (parts.length !== head.length + rest || head.some((h, i) => parts[i] !== h)) return undefined;
  return parts.slice(head.length);
}

/** Reads `repo`; throws ERR_NOT_FOUND / ERR_BAD_REQUEST / ERR_UNKNOWN_HOST / ERR_FORBIDDEN. */
export function parseRepo(repo: string, layout: RepoLayout): { kind: 'provider'; p: ProviderRepo } | { kind: 'module'; m: ModuleRepo } {
  const parts = repo.split('/');
  const prov = under(parts, split(layout.providerPrefix), 3);
  const mod = prov === undefined ? under(parts, split(layout.modulePrefix), 4) : undefined;
  const rest = prov ?? mod;
  if (rest === undefined) {
    throw new RegcacheError('ERR_NOT_FOUND', `repositories here are ${[...split(layout.providerPrefix), '<hostname>/<namespace>/<type>'].join('/')} and ${[...split(layout.modulePrefix), '<hostname>/<namespace>/<name>/<system>'].join('/')}`);
  }
  const host = parseHost(rest[0] ?? '');
  const namespace = parseName('namespace', rest[1] ?? '');
  if (prov !== undefined) {
    const type = parseName('type', rest[2] ?? '');
    const up = layout.upstreams.resolve(host);
    const address = `${up.host}/${namespace}/${type}`;
    layout.policy.check(address);
    return { kind: 'provider', p: { up, namespace, type, address } };
  }
  const name = parseName('module name', rest[2] ?? '');
  const system = parseName('module system', rest[3] ?? '');
  const up = layout.upstreams.resolve(host);
  const address = `${up.host}/${namespace}/${name}/${system}`;
  layout.policy.check(address);
  return { kind: 'module', m: { up, namespace, name, system, address } };
}
