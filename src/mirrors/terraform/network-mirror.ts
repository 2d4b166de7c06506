/**
 * The provider network mirror protocol, pulled through from upstream
 * registries:
 *   GET /v1/mirror/:host/:namespace/:type/index.json
 *   GET /v1/mirror/:host/:namespace/:type/:version.json
 *   GET /v1/mirror/:host/:namespace/:type/:version/:os_:arch/:filename   (zip)
 * `:version.json` is composed from cached versions, per-platform download
 * answers (fetched in parallel, bounded) and the verified SHA256SUMS; archive
 * URLs are relative, so the mirror works behind any host name. In a private
 * scope they carry an expiring signature, since Terraform sends no
 * credentials for zips.
 */
import { RegcacheError } from '../../core/errors.js';
import { canonicalPath, credentialOf, jsonAnswer, type BodyAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import { isFilename, parseName, parsePlatform, parseVersion, providerKey } from './names.js';
import { publicAnswer, type ProviderAdapterDeps } from './provider-package.js';
import { SIGNED_URL, type Credential } from './registry.js';
import { collectPlatforms } from './version-platforms.js';
import type { RegistryUpstream } from './upstreams.js';


/** Creates the adapter mounted at /v1/mirror/. */
export function createNetworkMirror(deps: ProviderAdapterDeps): Mirror {
  const { upstreams, registry, packages, access, policy } = deps;

  async function indexJson(up: RegistryUpstream, ns: string, type: string, cred: Credential): Promise<MirrorAnswer> {
    return publicAnswer(deps, providerKey(up.host, ns, type), `mirror-index ${up.host}/${ns}/${type}`, () => composeIndex(up, ns, type, cred));
  }

  async function versionJson(up: RegistryUpstream, ns: string, type: string, version: string, cred: Credential): Promise<MirrorAnswer> {
    return publicAnswer(deps, providerKey(up.host, ns, type), `mirror-version ${up.host}/${ns}/${type}/${version}`, () => composeVersion(up, ns, type, version, cred));
  }

  async function composeIndex(up: RegistryUpstream, ns: string, type: string, cred: Credential): Promise<BodyAnswer> {
    const v = await registry.versions(up, ns, type, cred);
    const versions: Record<string, object> = {};
    for (const version of policy.filter(`${up.host}/${ns}/${type}`, v.value.versions.map((e) => e.version))) versions[version] = {};
    return jsonAnswer({ versions }, v.result);
  }

  async function composeVersion(up: RegistryUpstream, ns: string, type: string, version: string, cred: Credential): Promise<BodyAnswer> {
    const collected = await collectPlatforms({ registry, packages, parallelism: deps.parallelism }, up, ns, type, version, cred);
    const signed = await access.isPrivate(providerKey(up.host, ns, type));
    const archives: Record<string, { url: string; hashes: string[] }> = {};
    for (const p of collected.platforms) {
      const plat = `${p.info.os}_${p.info.arch}`;
      let url = `${encodeURIComponent(version)}/${plat}/${p.info.filename}`;
      if (signed) url += `?${access.signQuery(canonicalPath(['v1', 'mirror', up.host, ns, type, version, plat, p.info.filename]))}`;
      archives[plat] = { url, hashes: p.h1 ? [p.h1, p.zh] : [p.zh] };
    }
    return jsonAnswer({ archives }, collected.result);
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
      const address = `${up.host}/${ns}/${type}`;
      policy.check(address);
      if (s.length === 4) {
        const last = s[3] ?? '';
        const cred = credentialOf(req);
        if (last === 'index.json') return indexJson(up, ns, type, cred);
        if (last.endsWith('.json')) {
          const version = parseVersion(last.slice(0, -'.json'.length));
          policy.check(address, version);
          return versionJson(up, ns, type, version, cred);
        }
        throw new RegcacheError('ERR_NOT_FOUND');
      }
      const version = parseVersion(s[3] ?? '');
      policy.check(address, version);
      const { os, arch } = parsePlatform(s[4] ?? '');
      const filename = s[5] ?? '';
      if (!isFilename(filename)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid file name');
      let cred: Credential = credentialOf(req);
      if (await access.isPrivate(providerKey(up.host, ns, type))) {
        access.verifyPath(req.path, req.query);
        cred = SIGNED_URL;
      }
      return { kind: 'artifact', route: packages.zipRoute({ up, namespace: ns, type, version, os, arch }, filename, cred, credentialOf(req)) };
    },
  };
}
