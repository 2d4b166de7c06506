/**
 * The module registry protocol, pulled through:
 *   GET /v1/modules/:host/:ns/:name/:system/versions
 *   GET /v1/modules/:host/:ns/:name/:system/:version/download
 *   GET /v1/modules/:host/:ns/:name/:system/:version/archive.:format   (http(s) archive)
 *   GET /v1/modules/:host/:ns/:name/:system/:version/git/:sha.tar.gz  (git source, repacked)
 * The download answer is 200 with `{"location": …}` and the same value in
 * X-Terraform-Get, so Terraform and OpenTofu both accept it. Sources regcache
 * cannot or may not fetch itself (ssh, s3, gcs, hg, git hosts not allowed)
 * are passed through unchanged.
 */
import type { Access } from '../../access/access.js';
import { SIGNED_URL, type Credential } from '../../access/credential.js';
import { isPrivateObject, privateAttrs } from '../../access/scope-privacy.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute } from '../../core/route.js';
import { canonicalPath, credentialOf, jsonAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import type { Policy } from './policy.js';
import { createModuleArchives } from './module-archive.js';
import { moduleScope, type ModuleId, type ModuleReader } from './module-reader.js';
import { formatWithSubdir, parseModuleSource, type ArchiveFormat, type ModuleSource } from './module-source.js';
import { parseName, parseVersion } from './names.js';
import type { RegistryUpstreams } from './upstreams.js';

/** Dependencies of the module adapter. */
export interface ModuleRegistryDeps {
  upstreams: RegistryUpstreams;
  modules: ModuleReader;
  archives: ReturnType<typeof createModuleArchives>;
  access: Access;
  policy: Policy;
  gitHosts: readonly string[];
  allowHttpGit: boolean;
}

const FORMATS: readonly ArchiveFormat[] = ['zip', 'tar.gz', 'tar.bz2', 'tar.xz'];

/** Creates the adapter mounted at /v1/modules/. */
export function createModuleRegistry(deps: ModuleRegistryDeps): Mirror {
  const { upstreams, modules, access, archives } = deps;

  async function sourceOf(id: ModuleId, version: string, cred: Credential): Promise<{ source: ModuleSource; location: string; private: boolean }> {
    const found = await modules.location(id, version, cred);
    const loc = found.value;
    const source = parseModuleSource(loc.location, loc.finalUrl, { allowHttp: deps.allowHttpGit });
    if (source.kind === 'git' && !deps.gitHosts.includes(source.host)) {
      return { source: { kind: 'passthrough', reason: `git host ${source.host} not allowed` }, location: loc.location, private: found.private };
    }
    return { source, location: loc.location, private: found.private };
  }

  async function download(req: MirrorRequest, id: ModuleId, version: string): Promise<MirrorAnswer> {
    const cred = credentialOf(req);
    const { source, location, private: isPrivate } = await sourceOf(id, version, cred);
    let target = location;
    if (source.kind !== 'passthrough') {
      const tail = source.kind === 'git' ? ['git', `${(await modules.gitRef(source.url, source.ref)).value.sha}.tar.gz`] : [`archive.${source.format}`];
      const path = canonicalPath(['v1', 'modules', id.up.host, id.namespace, id.name, id.system, version, ...tail]);
      const signed = isPrivate ? `?${access.signQuery(path)}` : '';
      target = formatWithSubdir(`${req.baseUrl}${path}${signed}`, source.subdir);
    }
    const answer = jsonAnswer({ location: target }, 'bypass');
    return { ...answer, headers: { 'x-terraform-get': target } };
  }

  async function archive(req: MirrorRequest, id: ModuleId, version: string, tail: string[]): Promise<MirrorAnswer> {
    const scope = moduleScope(id);
    let cred: Credential = credentialOf(req);
    if (await access.isPrivate(scope)) {
      await access.verifyPath(scope, req.path, req.query);
      cred = SIGNED_URL;
    }
    const { source, private: isPrivate } = await sourceOf(id, version, cred);
    let route: ArtifactRoute | undefined;
    if (tail.length === 1 && source.kind === 'archive' && tail[0] === `archive.${source.format}`) {
      route = archives.httpRoute(id, version, source.url, source.format);
    } else if (tail.length === 2 && tail[0] === 'git' && source.kind === 'git') {
      const m = /^([0-9a-f]{40}|[0-9a-f]{64})\.tar\.gz$/.exec(tail[1] ?? '');
      // Only the commit this version's ref resolves to: a host may serve any commit by id (on GitHub, a fork's).
      if (m?.[1] && m[1] === (await modules.gitRef(source.url, source.ref)).value.sha) route = archives.gitRoute(source.url, m[1], source.ref);
    }
    if (!route) throw new RegcacheError('ERR_NOT_FOUND', 'no such module archive');
    // An archive of a private module is stored as private (git archives are shared by repo@commit, not scoped),
    // and an object stored as private answers only a signed request.
    const inner = route;
    const signed = cred === SIGNED_URL;
    const attrs = isPrivate && inner.key.startsWith(`${scope}/`) ? { attrs: { ...inner.attrs, ...privateAttrs(scope) } } : {};
    return { kind: 'artifact', route: { ...inner, ...attrs, matches: (meta) => (signed || !isPrivateObject(meta.attrs)) && (inner.matches?.(meta) ?? true) } };
  }

  return {
    name: 'terraform-modules',
    prefix: ['v1', 'modules'],
    async handle(req) {
      const s = req.segments;
      if (s.length < 5) throw new RegcacheError('ERR_NOT_FOUND');
      const id: ModuleId = {
        up: upstreams.resolve(s[0] ?? ''),
        namespace: parseName('namespace', s[1] ?? ''),
        name: parseName('module name', s[2] ?? ''),
        system: parseName('module system', s[3] ?? ''),
      };
      const address = `${id.up.host}/${id.namespace}/${id.name}/${id.system}`;
      deps.policy.check(address);
      if (s.length === 5 && s[4] === 'versions') {
        const v = await modules.versions(id, credentialOf(req));
        const allowed = deps.policy.filter(address, v.value.modules[0]?.versions.map((e) => e.version) ?? []);
        return jsonAnswer({ modules: [{ versions: allowed.map((version) => ({ version })) }] }, v.result);
      }
      const version = parseVersion(s[4] ?? '');
      deps.policy.check(address, version);
      if (s.length === 6 && s[5] === 'download') return download(req, id, version);
      const tail = s.slice(5);
      if (tail.length === 1 && !FORMATS.some((f) => tail[0] === `archive.${f}`)) throw new RegcacheError('ERR_NOT_FOUND');
      return archive(req, id, version, tail);
    },
  };
}
