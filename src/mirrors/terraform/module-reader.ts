/**
 * Cached module registry reads: version lists and download locations (as
 * metadata with ttl / stale-if-error), and git ref resolution: tags and
 * commits resolve once and are pinned forever, branches and refless sources
 * are revalidated with `git ls-remote` after the ttl and served stale while
 * the git host is down.
 */
import { createHash } from 'node:crypto';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { MetadataRoute } from '../../core/route.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { lsRemote } from './git-remote.js';
import { hostKey, isVersion } from './names.js';
import { parseCachedJson, type Cached, type Credential, type RegistryReader, type RegistryTiming } from './registry.js';
import type { RegistryUpstream } from './upstreams.js';

/** Identifies one module. */
export interface ModuleId {
  up: RegistryUpstream;
  namespace: string;
  name: string;
  system: string;
}

/** A download location as upstream gave it, with the URL it is relative to. */
export interface ModuleLocation {
  location: string;
  finalUrl: string;
}

/** A resolved git ref. */
export interface GitRef {
  sha: string;
  kind: 'tag' | 'branch' | 'commit' | 'head';
}

/** Cache key prefix (and privacy scope) of one module. */
export function moduleScope(id: ModuleId): string {
  return `tf/modules/${hostKey(id.up.host)}/${id.namespace}/${id.name}/${id.system}`;
}

/** Cached module reads. */
export interface ModuleReader {
  versions(id: ModuleId, cred: Credential): Promise<Cached<{ modules: Array<{ versions: Array<{ version: string }> }> }>>;
  location(id: ModuleId, version: string, cred: Credential): Promise<Cached<ModuleLocation>>;
  gitRef(url: string, ref: string | undefined): Promise<Cached<GitRef>>;
}

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

function parseModuleVersions(json: unknown): { modules: Array<{ versions: Array<{ version: string }> }> } {
  const modules = (json as { modules?: unknown }).modules;
  if (!Array.isArray(modules)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'module versions answer has no modules list');
  const first = modules[0] as { versions?: unknown } | undefined;
  const list = Array.isArray(first?.versions) ? first.versions : [];
  const versions = list.map((v: unknown) => (v as { version?: unknown }).version).filter(isVersion).map((version) => ({ version }));
  return { modules: [{ versions }] };
}

/** Creates the module reader. */
export function createModuleReader(deps: {
  cache: Cache;
  client: UpstreamClient;
  registry: RegistryReader;
  timing: RegistryTiming;
  git: { timeoutMs: number; allowHttp: boolean };
}): ModuleReader {
  const { cache, client, registry, timing } = deps;

  async function modulesBase(up: RegistryUpstream): Promise<string> {
    const d = (await registry.discovery(up)).value;
    if (!d.modules) throw new RegcacheError('ERR_UPSTREAM_NOT_FOUND', `registry ${up.host} offers no modules.v1 service`);
    return d.modules;
  }

  async function readLocation(url: string, auth: { authorization?: string }, signal: AbortSignal): Promise<ModuleLocation> {
    // A metadata read: bounded in size and by upstream.metadataDeadline.
    const res = await client.bytes(url, 64 * 1024, { signal, accept: 'application/json', ...auth });
    const header = res.headers['x-terraform-get'];
    let location = typeof header === 'string' ? header : undefined;
    if (location === undefined && res.body.length > 0) {
      try {
        const j = JSON.parse(res.body.toString('utf8')) as { location?: unknown };
        if (typeof j.location === 'string') location = j.location;
      } catch {
        throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'module download answer is not JSON');
      }
    }
    if (!location) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'module download answer has no location');
    return { location, finalUrl: res.finalUrl };
  }

  const route = (key: string, load: MetadataRoute['load'], ttlMs = timing.ttlMs): MetadataRoute => ({
    kind: 'metadata',
    key,
    ttlMs,
    staleIfErrorMs: timing.staleIfErrorMs,
    load,
  });
  const json = (v: unknown): { body: Buffer; contentType: string } => ({ body: Buffer.from(JSON.stringify(v)), contentType: 'application/json' });
  const parsed = <T>(b: Buffer): T => parseCachedJson(b) as T;

  async function guardModule(id: ModuleId, cred: Credential): Promise<void> {
    await registry.guard(id.up, moduleScope(id), cred, async () => `${await modulesBase(id.up)}${id.namespace}/${id.name}/${id.system}/versions`);
  }

  return {
    async versions(id, cred) {
      const scope = moduleScope(id);
      const r = await cache.metadata(
        route(`${scope}/versions`, async (signal) => {
          const url = `${await modulesBase(id.up)}${id.namespace}/${id.name}/${id.system}/versions`;
          const got = await registry.withCredentialFallback(id.up, scope, cred, (a) => client.json(url, timing.maxMetadataBytes, { signal, ...a }));
          return json(parseModuleVersions(got.json));
        }),
      );
      await guardModule(id, cred);
      return { value: parsed(r.body), result: r.result };
    },

    async location(id, version, cred) {
      const scope = moduleScope(id);
      const r = await cache.metadata(
        route(`${scope}/${version}/download`, async (signal) => {
          const url = `${await modulesBase(id.up)}${id.namespace}/${id.name}/${id.system}/${version}/download`;
          return json(await registry.withCredentialFallback(id.up, scope, cred, (a) => readLocation(url, a, signal)));
        }),
      );
      await guardModule(id, cred);
      return { value: parsed<ModuleLocation>(r.body), result: r.result };
    },

    async gitRef(url, ref) {
      const base = `tf/git-refs/${hex(`${url}#${ref ?? ''}`)}`;
      const pinned = await cache.cached(`${base}/pinned`);
      if (pinned) return { value: parsed<GitRef>(pinned.body), result: 'hit' };
      const r = await cache.metadata(route(`${base}/ref`, async () => json(await lsRemote(url, ref, deps.git))));
      const value = parsed<GitRef>(r.body);
      if (value.kind === 'tag' || value.kind === 'commit') {
        await cache.metadata(route(`${base}/pinned`, () => Promise.resolve(json(value)), Number.POSITIVE_INFINITY));
      }
      return { value, result: r.result };
    },
  };
}
