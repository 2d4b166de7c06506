/**
 * The two layouts a provider version takes in an OCI registry, read from
 * untrusted manifest JSON into the archives of each platform:
 *
 * - OpenTofu's (RFC 20241206 "OCI registries", providers chapter, as
 *   OpenTofu 1.10 implements it): the version's tag names an image index
 *   with `artifactType: application/vnd.opentofu.provider`; each entry of
 *   `artifactType: application/vnd.opentofu.provider-target` is an image
 *   manifest for one `platform` (`os`, `architecture`; entries with an
 *   `os.version` are skipped) holding exactly one `archive/zip` layer.
 * - the experimental oci-distribution-terraform-registry's: the tag names
 *   one image manifest whose config is
 *   `application/vnd.hashicorp.terraform-provider.config.v1+json`; every
 *   layer `application/vnd.hashicorp.terraform.provider-package+zip` names
 *   the platforms it serves in its `io.terraform.target-platforms`
 *   annotation ("linux_amd64,darwin_arm64").
 *
 * A layer's digest is the sha256 of the zip: Terraform's `zh:` hash. Any
 * other artifact, or an ambiguous one (two archives for one platform), is
 * refused (502) rather than guessed at.
 */
import { RegcacheError } from '../../core/errors.js';
import { isDigest } from '../oci/names.js';
import { isPlatformPart } from '../terraform/names.js';

/** OCI image index (OpenTofu's version artifact). */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** OCI image manifest (OpenTofu's per-platform artifact; the seed's version artifact). */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Docker image manifest v2 (a registry may hand the seed's manifest out as one). */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** artifactType of OpenTofu's version index. */
export const TOFU_PROVIDER = 'application/vnd.opentofu.provider';
/** artifactType of OpenTofu's per-platform manifests. */
export const TOFU_TARGET = 'application/vnd.opentofu.provider-target';
/** Media type of OpenTofu's package layer. */
export const TOFU_ZIP = 'archive/zip';
/** Config media type of the seed's version manifest. */
export const SEED_CONFIG = 'application/vnd.hashicorp.terraform-provider.config.v1+json';
/** Media type of the seed's package layers. */
export const SEED_ZIP = 'application/vnd.hashicorp.terraform.provider-package+zip';
/** Annotation of a seed package layer: the platforms it serves, comma-separated. */
export const SEED_PLATFORMS = 'io.terraform.target-platforms';

/** What regcache asks a registry for when it reads a version's tag. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

/** The largest manifest read (OpenTofu's limit, the distribution spec's recommendation). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** One platform's package: the zip blob. */
export interface Archive {
  /** "linux_amd64". */
  platform: string;
  digest: string;
  size: number;
}

/** A per-platform manifest still to be read (OpenTofu's layout). */
export interface Target {
  platform: string;
  digest: string;
  size: number;
}

/** What a version's tag names. */
export type VersionDoc = { layout: 'opentofu'; targets: Target[] } | { layout: 'seed'; archives: Archive[] };

type Json = Record<string, unknown>;

const bad = (msg: string): RegcacheError => new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `registry manifest: ${msg}`);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parse(body: Buffer): Json {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (!isObject(v)) throw bad('not a JSON object');
  return v;
}

/** A descriptor's digest and size, checked. */
function blobOf(d: Json): { digest: string; size: number } {
  const { digest, size } = d;
  if (typeof digest !== 'string' || !isDigest(digest)) throw bad('a descriptor has no sha256/sha512 digest');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('a descriptor has no valid size');
  return { digest, size };
}

function platformName(os: unknown, arch: unknown): string {
  if (!isPlatformPart(os) || !isPlatformPart(arch)) throw bad('invalid platform');
  return `${os}_${arch}`;
}

function addOnce<T extends { platform: string }>(into: Map<string, T>, item: T): void {
  if (into.has(item.platform)) throw bad(`two packages for platform ${item.platform}`);
  into.set(item.platform, item);
}

/** Reads the manifest a version's tag names (either layout). */
export function parseVersionManifest(body: Buffer): VersionDoc {
  const m = parse(body);
  if (m.mediaType === OCI_INDEX || Array.isArray(m.manifests)) {
    if (m.artifactType !== TOFU_PROVIDER) throw bad(`not an OpenTofu provider index (artifactType ${JSON.stringify(m.artifactType ?? null)})`);
    const targets = new Map<string, Target>();
    for (const d of Array.isArray(m.manifests) ? m.manifests : []) {
      if (!isObject(d) || d.artifactType !== TOFU_TARGET) continue;
      if (d.mediaType !== OCI_MANIFEST) throw bad('a provider-target entry is not an image manifest');
      const p = d.platform;
      if (!isObject(p)) throw bad('a provider-target entry has no platform');
      if (p['os.version'] !== undefined && p['os.version'] !== '') continue;
      addOnce(targets, { platform: platformName(p.os, p.architecture), ...blobOf(d) });
    }
    return { layout: 'opentofu', targets: [...targets.values()] };
  }
  const config = m.config;
  if (!isObject(config) || config.mediaType !== SEED_CONFIG) throw bad('not a provider artifact (neither layout)');
  const archives = new Map<string, Archive>();
  for (const layer of Array.isArray(m.layers) ? m.layers : []) {
    if (!isObject(layer) || layer.mediaType !== SEED_ZIP) continue;
    const annotations = layer.annotations;
    const list = isObject(annotations) ? annotations[SEED_PLATFORMS] : undefined;
    if (typeof list !== 'string' || list.trim() === '') continue;
    const blob = blobOf(layer);
    for (const name of list.split(',')) {
      const [os, arch, extra] = name.trim().split('_');
      if (extra !== undefined) throw bad('invalid platform');
      addOnce(archives, { platform: platformName(os, arch), ...blob });
    }
  }
  return { layout: 'seed', archives: [...archives.values()] };
}

/** Reads one platform's image manifest (OpenTofu's layout): its one `archive/zip` layer. */
export function parseTargetManifest(body: Buffer, platform: string): Archive {
  const m = parse(body);
  if (m.mediaType !== undefined && m.mediaType !== OCI_MANIFEST) throw bad('a provider-target is not an image manifest');
  if (m.artifactType !== undefined && m.artifactType !== TOFU_TARGET) throw bad('a provider-target manifest has another artifactType');
  const zips = (Array.isArray(m.layers) ? m.layers : []).filter((l): l is Json => isObject(l) && l.mediaType === TOFU_ZIP);
  if (zips.length !== 1) throw bad(`the ${platform} manifest has ${zips.length} archive/zip layers (exactly one expected)`);
  return { platform, ...blobOf(zips[0] as Json) };
}

/** The `zh:` hash of an archive (sha256 layers only; a sha512 layer has none Terraform knows). */
export function zhOf(archive: Archive): string | undefined {
  return archive.digest.startsWith('sha256:') ? `zh:${archive.digest.slice('sha256:'.length)}` : undefined;
}
