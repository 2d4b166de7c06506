/**
 * The provider registry protocol, pulled through (for `host` overrides and
 * sources naming regcache itself):
 *   GET /v1/providers/:host/:ns/:type/versions
 *   GET /v1/providers/:host/:ns/:type/:version/download/:os/:arch
 *   GET /v1/providers/:host/:ns/:type/:version/archives/:os_:arch/:filename
 *   GET /v1/providers/:host/:ns/:type/:version/archives/SHA256SUMS[.sig]
 * The download answer keeps upstream's shasum and signing keys and points
 * its three URLs at regcache, which serves upstream's bytes unchanged. It
 * adds OpenTofu's `packages` (every platform's zh:, h1: when known, size).
 */
import { RegcacheError } from '../../core/errors.js';
import { canonicalPath, credentialOf, jsonAnswer, type BodyAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import { isFilename, parseName, parsePlatform, parseVersion, providerKey } from './names.js';
import { publicAnswer, type ProviderAdapterDeps } from './provider-package.js';
import { combineResults, SIGNED_URL, type Credential } from './registry.js';
import type { RegistryUpstream } from './upstreams.js';
import { collectPlatforms } from './version-platforms.js';


const SUMS = 'SHA256SUMS';
const SIG = 'SHA256SUMS.sig';

/** Creates the adapter mounted at /v1/providers/. */
export function createProviderRegistry(deps: ProviderAdapterDeps): Mirror {
  const { upstreams, registry, packages, access, policy } = deps;

  async function download(req: MirrorRequest, up: RegistryUpstream, ns: string, type: string, version: string, os: string, arch: string): Promise<MirrorAnswer> {
    const key = `registry-download ${req.baseUrl} ${up.host}/${ns}/${type}/${version}/${os}_${arch}`;
    return publicAnswer(deps, providerKey(up.host, ns, type), key, () => composeDownload(req, up, ns, type, version, os, arch));
  }

  async function composeDownload(req: MirrorRequest, up: RegistryUpstream, ns: string, type: string, version: string, os: string, arch: string): Promise<BodyAnswer> {
    const cred = credentialOf(req);
    const d = await registry.download(up, ns, type, version, os, arch, cred);
    const all = await collectPlatforms(deps, up, ns, type, version, cred);
    const signed = await access.isPrivate(providerKey(up.host, ns, type));
    const url = (...tail: string[]): string => {
      const segs = ['v1', 'providers', up.host, ns, type, version, 'archives', ...tail];
      const path = canonicalPath(segs);
      return `${req.baseUrl}${path}${signed ? `?${access.signQuery(path)}` : ''}`;
    };
    const packagesField: Record<string, { hashes: string[]; package_size?: number }> = {};
    for (const p of all.platforms) {
      packagesField[`${p.info.os}_${p.info.arch}`] = {
        hashes: p.h1 ? [p.zh, p.h1] : [p.zh],
        ...(p.size !== undefined ? { package_size: p.size } : {}),
      };
    }
    const body = {
      ...d.value.raw,
      download_url: url(`${os}_${arch}`, d.value.filename),
      shasums_url: url(SUMS),
      shasums_signature_url: url(SIG),
      packages: packagesField,
    };
    return jsonAnswer(body, combineResults([d.result, all.result]));
  }

  async function sums(up: RegistryUpstream, ns: string, type: string, version: string, which: string, cred: Credential): Promise<MirrorAnswer> {
    const v = await registry.versions(up, ns, type, cred);
    const entry = v.value.versions.find((e) => e.version === version);
    const first = entry?.platforms[0];
    if (!first) throw new RegcacheError('ERR_NOT_FOUND', `version ${version} of ${ns}/${type} not found upstream`);
    const d = await registry.download(up, ns, type, version, first.os, first.arch, cred);
    const b = await registry.shasums(up, ns, type, version, d.value, cred);
    const bytes = Buffer.from(which === SUMS ? b.value.sums : b.value.sig, 'base64');
    if (which === SIG && !b.value.signed) throw new RegcacheError('ERR_NOT_FOUND', 'this provider is not signed upstream');
    return { kind: 'body', status: 200, contentType: which === SUMS ? 'text/plain; charset=utf-8' : 'application/octet-stream', body: bytes, result: b.result };
  }

  return {
    name: 'terraform-registry',
    prefix: ['v1', 'providers'],
    async handle(req) {
      const s = req.segments;
      const up = upstreams.resolve(s[0] ?? '');
      const ns = parseName('namespace', s[1] ?? '');
      const type = parseName('type', s[2] ?? '');
      const address = `${up.host}/${ns}/${type}`;
      policy.check(address);
      if (s.length === 4 && s[3] === 'versions') {
        return publicAnswer(deps, providerKey(up.host, ns, type), `registry-versions ${address}`, async () => {
          const v = await registry.versions(up, ns, type, credentialOf(req));
          const allowed = new Set(policy.filter(address, v.value.versions.map((e) => e.version)));
          return jsonAnswer({ versions: v.value.versions.filter((e) => allowed.has(e.version)) }, v.result);
        });
      }
      if (s.length < 6) throw new RegcacheError('ERR_NOT_FOUND');
      const version = parseVersion(s[3] ?? '');
      policy.check(address, version);
      if (s.length === 7 && s[4] === 'download') {
        const { os, arch } = parsePlatform(`${s[5] ?? ''}_${s[6] ?? ''}`);
        return download(req, up, ns, type, version, os, arch);
      }
      if (s[4] !== 'archives') throw new RegcacheError('ERR_NOT_FOUND');
      let cred: Credential = credentialOf(req);
      if (await access.isPrivate(providerKey(up.host, ns, type))) {
        access.verifyPath(req.path, req.query);
        cred = SIGNED_URL;
      }
      if (s.length === 6 && (s[5] === SUMS || s[5] === SIG)) return sums(up, ns, type, version, s[5], cred);
      if (s.length !== 7) throw new RegcacheError('ERR_NOT_FOUND');
      const { os, arch } = parsePlatform(s[5] ?? '');
      const filename = s[6] ?? '';
      if (!isFilename(filename)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid file name');
      return { kind: 'artifact', route: packages.zipRoute({ up, namespace: ns, type, version, os, arch }, filename, cred, credentialOf(req)) };
    },
  };
}
