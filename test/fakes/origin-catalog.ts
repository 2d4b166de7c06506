/**
 * What the fake origin publishes: providers with real zips, SHA256SUMS and
 * signatures, modules with generated archives, and the files behind them.
 * Kept free of HTTP so the routes stay a thin mapping.
 */
import { createHash } from 'node:crypto';
import {
  generateSigningKey,
  makeProviderZip,
  makeShasums,
  signDetached,
} from '../support/provider-fixtures.js';
import type { OriginModuleSpec, OriginPlatform, OriginProviderSpec, OriginSigningKey } from './origin-types.js';
import { makeModuleTarGz } from './tar-gz.js';

/** A servable file and what faults may do to it. */
export interface CatalogFile {
  bytes: Buffer;
  contentType: string;
  /** Zips: how to build a different zip for `wrongShasum`. */
  zipOptions?: { type: string; version: string; os: string; arch: string; extraBytes?: number };
  /** Signatures: the SHA256SUMS bytes, to sign with a rogue key for `badSignature`. */
  signedBytes?: Buffer;
  /** Served only with `Authorization: Bearer <token>`. */
  token?: string;
}

/** One built platform package of a provider version. */
export interface CatalogZip {
  os: string;
  arch: string;
  filename: string;
  shasum: string;
  path: string;
}

/** One built provider version. */
export interface CatalogProviderVersion {
  version: string;
  platforms: OriginPlatform[];
  zips: Map<string, CatalogZip>;
  shasumsPath: string;
  signaturePath: string;
}

/** A published provider. */
export interface CatalogProvider {
  signed: boolean;
  token: string | undefined;
  versions: Map<string, CatalogProviderVersion>;
}

/** A published module. */
export interface CatalogModule {
  token: string | undefined;
  versions: string[];
  location: (version: string) => string;
}

/** The fake origin's content store. */
export interface OriginCatalog {
  addProvider(spec: OriginProviderSpec): Promise<void>;
  addModule(spec: OriginModuleSpec): void;
  provider(namespace: string, type: string): CatalogProvider | undefined;
  module(namespace: string, name: string, system: string): CatalogModule | undefined;
  file(path: string): CatalogFile | undefined;
  /** A valid zip with different bytes than the published one (cached). */
  tamperedZip(file: CatalogFile): Promise<Buffer>;
  /** A signature over the same SHA256SUMS by a key nobody published (cached). */
  rogueSignature(file: CatalogFile): Promise<Buffer>;
}

const ZIP_TYPE = 'application/zip';
const OCTET_TYPE = 'application/octet-stream';
const GZIP_TYPE = 'application/gzip';

/** The key of a platform in `CatalogProviderVersion.zips`. */
export function platformKey(os: string, arch: string): string {
  return `${os}_${arch}`;
}

/** Creates an empty catalogue that signs with `signingKey`. */
export function createOriginCatalog(signingKey: OriginSigningKey): OriginCatalog {
  const providers = new Map<string, CatalogProvider>();
  const modules = new Map<string, CatalogModule>();
  const files = new Map<string, CatalogFile>();
  const tampered = new WeakMap<CatalogFile, Promise<Buffer>>();
  const rogueSigs = new WeakMap<CatalogFile, Promise<Buffer>>();
  let rogueKey: Promise<OriginSigningKey> | undefined;

  async function buildVersion(
    spec: OriginProviderSpec,
    v: OriginProviderSpec['versions'][number],
  ): Promise<CatalogProviderVersion> {
    const dir = `/files/providers/${spec.namespace}/${spec.type}/${v.version}`;
    const zips = new Map<string, CatalogZip>();
    const entries: Array<{ filename: string; bytes: Uint8Array }> = [];
    for (const { os, arch } of v.platforms) {
      const extra = v.extraBytes === undefined ? {} : { extraBytes: v.extraBytes };
      const zipOptions = { type: spec.type, version: v.version, os, arch, ...extra };
      const bytes = await makeProviderZip(zipOptions);
      const filename = `terraform-provider-${spec.type}_${v.version}_${os}_${arch}.zip`;
      const path = `${dir}/${filename}`;
      files.set(path, { bytes, contentType: ZIP_TYPE, zipOptions, ...(spec.filesToken ? { token: spec.filesToken } : {}) });
      const shasum = createHash('sha256').update(bytes).digest('hex');
      zips.set(platformKey(os, arch), { os, arch, filename, path, shasum });
      entries.push({ filename, bytes });
    }
    const shasums = Buffer.from(makeShasums(entries));
    const signature = Buffer.from(await signDetached(shasums, signingKey.armoredPrivateKey));
    const shasumsPath = `${dir}/terraform-provider-${spec.type}_${v.version}_SHA256SUMS`;
    const signaturePath = `${shasumsPath}.sig`;
    const token = spec.filesToken ? { token: spec.filesToken } : {};
    files.set(shasumsPath, { bytes: shasums, contentType: OCTET_TYPE, ...token });
    files.set(signaturePath, { bytes: signature, contentType: OCTET_TYPE, signedBytes: shasums, ...token });
    return { version: v.version, platforms: v.platforms.map((p) => ({ ...p })), zips, shasumsPath, signaturePath };
  }

  return {
    async addProvider(spec) {
      const key = `${spec.namespace}/${spec.type}`;
      const built = await Promise.all(spec.versions.map((v) => buildVersion(spec, v)));
      const existing = providers.get(key);
      const versions = existing?.versions ?? new Map<string, CatalogProviderVersion>();
      for (const b of built) versions.set(b.version, b);
      providers.set(key, { signed: spec.signed ?? true, token: spec.token, versions });
    },

    addModule(spec) {
      const dir = `/files/modules/${spec.namespace}/${spec.name}/${spec.system}`;
      for (const version of spec.versions) {
        files.set(`${dir}/${version}/${spec.name}-${version}.tar.gz`, {
          bytes: makeModuleTarGz(version),
          contentType: GZIP_TYPE,
        });
      }
      modules.set(`${spec.namespace}/${spec.name}/${spec.system}`, {
        token: spec.token,
        versions: [...spec.versions],
        location: spec.location ?? ((version) => `${dir}/${version}/${spec.name}-${version}.tar.gz`),
      });
    },

    provider: (namespace, type) => providers.get(`${namespace}/${type}`),
    module: (namespace, name, system) => modules.get(`${namespace}/${name}/${system}`),
    file: (path) => files.get(path),

    tamperedZip(file) {
      const cached = tampered.get(file);
      if (cached !== undefined) return cached;
      const opts = file.zipOptions;
      const built =
        opts === undefined
          ? Promise.resolve(Buffer.concat([file.bytes, Buffer.from('tampered')]))
          : makeProviderZip({ ...opts, extraBytes: (opts.extraBytes ?? 0) + 97 });
      tampered.set(file, built);
      return built;
    },

    rogueSignature(file) {
      const cached = rogueSigs.get(file);
      if (cached !== undefined) return cached;
      rogueKey ??= generateSigningKey();
      const key = rogueKey;
      const signed = file.signedBytes ?? file.bytes;
      const sig = key.then(async (k) => Buffer.from(await signDetached(signed, k.armoredPrivateKey)));
      rogueSigs.set(file, sig);
      return sig;
    },
  };
}
