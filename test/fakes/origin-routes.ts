/**
 * Maps requests to the fake origin onto answers, following the provider and
 * module registry protocols as registry.terraform.io speaks them.
 */
import type { CatalogProvider, OriginCatalog } from './origin-catalog.js';
import { platformKey } from './origin-catalog.js';
import type { Reply } from './origin-send.js';
import type { OriginSigningKey } from './origin-types.js';

/** The parts of a request routing looks at. */
export interface RouteRequest {
  path: string;
  authorization: string | undefined;
  server: 'origin' | 'cdn';
}

/** Answers one request with a reply (never throws for unknown paths). */
export type OriginRouter = (req: RouteRequest) => Reply;

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A JSON answer, as every registry metadata endpoint gives. */
export function jsonReply(status: number, value: unknown): Reply {
  return { status, headers: { ...JSON_HEADERS }, body: Buffer.from(JSON.stringify(value)) };
}

/** The registry's error shape. */
export function errorReply(status: number, message: string): Reply {
  return jsonReply(status, { errors: [message] });
}

const notFound = (): Reply => errorReply(404, 'Not Found');

function authorized(token: string | undefined, authorization: string | undefined): boolean {
  return token === undefined || authorization === `Bearer ${token}`;
}

/** Creates the router; `fileBase` prefixes file URLs ('' keeps them relative). */
export function createOriginRouter(
  catalog: OriginCatalog,
  signingKey: OriginSigningKey,
  fileBase: () => string,
): OriginRouter {
  function providerVersions(provider: CatalogProvider): Reply {
    const versions = [...provider.versions.values()].map((v) => ({
      version: v.version,
      protocols: ['5.0'],
      platforms: v.platforms.map(({ os, arch }) => ({ os, arch })),
    }));
    return jsonReply(200, { versions });
  }

  function providerDownload(provider: CatalogProvider, version: string, os: string, arch: string): Reply {
    const v = provider.versions.get(version);
    const zip = v?.zips.get(platformKey(os, arch));
    if (v === undefined || zip === undefined) return notFound();
    const base = fileBase();
    const keys = provider.signed
      ? [
          {
            key_id: signingKey.keyId,
            ascii_armor: signingKey.armoredPublicKey,
            trust_signature: '',
            source: 'regcache-test',
            source_url: null,
          },
        ]
      : [];
    return jsonReply(200, {
      protocols: ['5.0'],
      os,
      arch,
      filename: zip.filename,
      download_url: `${base}${zip.path}`,
      shasums_url: `${base}${v.shasumsPath}`,
      shasums_signature_url: `${base}${v.signaturePath}`,
      shasum: zip.shasum,
      signing_keys: { gpg_public_keys: keys },
    });
  }

  function providers(seg: string[], authorization: string | undefined): Reply {
    const [ns, type, ...rest] = seg;
    if (ns === undefined || type === undefined) return notFound();
    const provider = catalog.provider(ns, type);
    if (provider === undefined) return notFound();
    if (!authorized(provider.token, authorization)) return errorReply(401, 'Unauthorized');
    if (rest.length === 1 && rest[0] === 'versions') return providerVersions(provider);
    const [version, download, os, arch, ...extra] = rest;
    if (version === undefined || download !== 'download' || os === undefined || arch === undefined || extra.length > 0) {
      return notFound();
    }
    return providerDownload(provider, version, os, arch);
  }

  function modules(seg: string[], authorization: string | undefined): Reply {
    const [ns, name, system, ...rest] = seg;
    if (ns === undefined || name === undefined || system === undefined) return notFound();
    const mod = catalog.module(ns, name, system);
    if (mod === undefined) return notFound();
    if (!authorized(mod.token, authorization)) return errorReply(401, 'Unauthorized');
    if (rest.length === 1 && rest[0] === 'versions') {
      return jsonReply(200, { modules: [{ versions: mod.versions.map((version) => ({ version })) }] });
    }
    const [version, download, ...extra] = rest;
    if (version === undefined || download !== 'download' || extra.length > 0 || !mod.versions.includes(version)) {
      return notFound();
    }
    return { status: 204, headers: { 'x-terraform-get': mod.location(version) }, body: Buffer.alloc(0) };
  }

  return (req) => {
    if (req.path.startsWith('/files/')) {
      const file = catalog.file(req.path);
      if (file === undefined) return notFound();
      if (!authorized(file.token, req.authorization)) return errorReply(401, 'Unauthorized');
      return { status: 200, headers: { 'content-type': file.contentType }, body: file.bytes, file };
    }
    if (req.server === 'cdn') return notFound();
    if (req.path === '/.well-known/terraform.json') {
      return jsonReply(200, { 'providers.v1': '/v1/providers/', 'modules.v1': '/v1/modules/' });
    }
    const seg = req.path.split('/').slice(1);
    if (seg[0] !== 'v1') return notFound();
    if (seg[1] === 'providers') return providers(seg.slice(2), req.authorization);
    if (seg[1] === 'modules') return modules(seg.slice(2), req.authorization);
    return notFound();
  };
}
