/**
 * The provider network mirror protocol over an OCI registry:
 *   GET <route>/:hostname/:namespace/:type/index.json
 *   GET <route>/:hostname/:namespace/:type/:version.json
 *   GET, HEAD <route>/:hostname/:namespace/:type/:version/:os_:arch/:file.zip
 * `index.json` lists the versions the repository has tags for;
 * `{version}.json` lists each platform's zip with its `zh:` hash (the layer
 * digest) and a relative URL back to regcache; the zip is the layer blob,
 * cached and verified. For a private provider the zip URLs carry an
 * expiring signature (Terraform sends no credential for zips) and, with
 * `proxy_packages`, the id of the client's stored download grant
 * (grants.ts): never the credential itself, in any form.
 */
import type { Access } from '../../access/access.js';
import type { Cache } from '../../core/cache.js';
import { SIGNED_URL, type Credential } from '../../access/credential.js';
import { RegcacheError } from '../../core/errors.js';
import { canonicalPath, credentialOf, jsonAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import { parsePlatform } from '../terraform/names.js';
import { versionArchives, zipFilename } from './archives.js';
import { GRANT_PARAM, type Grants } from './grants.js';
import { zhOf } from './layouts.js';
import { providerAddr, requestVersion, type ProviderAddr } from './names.js';
import { publicAnswer, type Composed } from './public-answer.js';
import type { ProviderReads } from './registry-reads.js';
import { zipRoute, type ZipRouteDeps } from './zip-route.js';

/** What the mirror of one instance works with. */
export interface ProviderMirrorDeps extends ZipRouteDeps {
  instance: string;
  namePrefix: string;
  proxyPackages: boolean;
  /** The instance's mount as path segments (signed URLs name the whole path). */
  mount: readonly string[];
  reads: ProviderReads;
  access: Access;
  /** Reuses composed public answers. */
  cache: Pick<Cache, 'derived' | 'derivedStamp'>;
  grants: Grants;
  parallelism: number;
  /** The instance's `expire_after` (ms; Infinity = never), for stored zips. */
  expireAfterMs: number;
}

/** Creates the instance's Mirror, owning everything below its mount. */
export function createProviderMirror(deps: ProviderMirrorDeps): Mirror {
  async function indexJson(addr: ProviderAddr, cred: Credential): Promise<Composed> {
    const r = await deps.reads.versions(addr, cred);
    const versions: Record<string, object> = {};
    for (const v of r.value) versions[v] = {};
    return { answer: jsonAnswer({ versions }, r.result), private: r.private };
  }

  async function versionJson(addr: ProviderAddr, version: string, cred: Credential): Promise<Composed> {
    const found = await versionArchives(deps.reads, deps.parallelism, addr, version, cred);
    const archives: Record<string, { url: string; hashes: string[] }> = {};
    // One grant per client and provider, stored before any URL naming it is handed out.
    const grant = found.private && deps.proxyPackages && typeof cred === 'string' ? await deps.grants.issue(addr.scope, cred) : undefined;
    for (const a of found.archives) {
      const file = zipFilename(addr, version, a.platform);
      let url = `${encodeURIComponent(version)}/${a.platform}/${file}`;
      if (found.private) {
        const path = canonicalPath([...deps.mount, addr.host, addr.namespace, addr.type, version, a.platform, file]);
        const signed = deps.access.signQuery(path);
        url += `?${signed}`;
        if (grant !== undefined) url += `&${GRANT_PARAM}=${grant}`;
      }
      const zh = zhOf(a);
      archives[a.platform] = { url, hashes: zh === undefined ? [] : [zh] };
    }
    return { answer: jsonAnswer({ archives }, found.result), private: found.private };
  }

  async function zip(req: MirrorRequest, addr: ProviderAddr, version: string, platform: string, filename: string): Promise<MirrorAnswer> {
    if (filename !== zipFilename(addr, version, platform)) throw new RegcacheError('ERR_NOT_FOUND', 'no such package');
    let cred: Credential = credentialOf(req);
    let grant: (() => Promise<string | undefined>) | undefined;
    if (await deps.access.isPrivate(addr.scope)) {
      await deps.access.verifyPath(addr.scope, req.path, req.query);
      cred = SIGNED_URL;
      const id = req.query.get(GRANT_PARAM);
      // Read from the store only when the registry refused regcache's own access.
      if (deps.proxyPackages && id !== null) grant = () => deps.grants.open(addr.scope, id);
    }
    // The manifests are read (and guarded, src/access/) before the route reaches the cache.
    const found = await versionArchives(deps.reads, deps.parallelism, addr, version, cred);
    const archive = found.archives.find((a) => a.platform === platform);
    if (archive === undefined) throw new RegcacheError('ERR_NOT_FOUND', `no package for ${platform}`);
    return { kind: 'artifact', route: zipRoute(deps, { addr, version, archive, cred, grant, expireAfterMs: deps.expireAfterMs }) };
  }

  return {
    name: 'provider-mirror',
    prefix: [],
    async handle(req: MirrorRequest): Promise<MirrorAnswer> {
      const s = req.segments;
      if (s.length !== 4 && s.length !== 6) throw new RegcacheError('ERR_NOT_FOUND');
      const addr = providerAddr(deps.instance, deps.namePrefix, s[0] ?? '', s[1] ?? '', s[2] ?? '');
      if (s.length === 6) {
        const version = requestVersion(s[3] ?? '');
        const { os, arch } = parsePlatform(s[4] ?? '');
        return zip(req, addr, version, `${os}_${arch}`, s[5] ?? '');
      }
      const last = s[3] ?? '';
      const cred = credentialOf(req);
      if (last === 'index.json') return publicAnswer(deps, addr.scope, 'index', () => indexJson(addr, cred));
      if (last.endsWith('.json')) {
        const version = requestVersion(last.slice(0, -'.json'.length));
        return publicAnswer(deps, addr.scope, `version ${version}`, () => versionJson(addr, version, cred));
      }
      throw new RegcacheError('ERR_NOT_FOUND');
    },
  };
}
