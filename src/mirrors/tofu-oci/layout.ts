/**
 * OpenTofu's provider layout in an OCI registry (RFC 20241206 "OCI
 * Registries", chapter "Provider installation in OCI"), built
 * deterministically: the same provider version always gives the same
 * bytes, hence the same digests, in every process and replica.
 * - one image manifest per platform: artifactType
 *   `application/vnd.opentofu.provider-target`, config = the OCI empty
 *   descriptor, exactly one `archive/zip` layer whose digest is the zip's
 *   signed SHA256SUMS value;
 * - one image index per version: artifactType
 *   `application/vnd.opentofu.provider`, one entry per platform with
 *   `platform` {os, architecture}, sorted by `<os>_<arch>`;
 * - tag = version with `+` written `_`.
 */
import { createHash } from 'node:crypto';

export const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const PROVIDER_ARTIFACT = 'application/vnd.opentofu.provider';
export const TARGET_ARTIFACT = 'application/vnd.opentofu.provider-target';
export const ZIP_LAYER = 'archive/zip';
export const EMPTY_TYPE = 'application/vnd.oci.empty.v1+json';
/** The OCI empty JSON object `{}` (image-spec "Guidance for an empty descriptor"). */
export const EMPTY_BYTES = Buffer.from('{}');
export const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

/** One platform's package, as verified. */
export interface TargetPackage {
  os: string;
  arch: string;
  filename: string;
  /** Lowercase hex sha256 of the zip (the signed SHA256SUMS entry). */
  sha256: string;
  size: number;
}

/** A serialized manifest and its digest. */
export interface BuiltManifest {
  mediaType: string;
  body: Buffer;
  digest: string;
}

/** A version's index and its per-platform manifests. */
export interface BuiltProvider {
  index: BuiltManifest;
  targets: Array<BuiltManifest & { pkg: TargetPackage }>;
}

function built(mediaType: string, value: unknown): BuiltManifest {
  const body = Buffer.from(JSON.stringify(value));
  return { mediaType, body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` };
}

/** The tag of a version. */
export function tagOf(version: string): string {
  return version.replace(/\+/g, '_');
}

/** The version a tag names (its `_` read as `+`); the caller validates it. */
export function versionOfTag(tag: string): string {
  return tag.replace(/_/g, '+');
}

/** Builds the index and the platform manifests of one version. */
export function buildProvider(packages: readonly TargetPackage[]): BuiltProvider {
  const sorted = [...packages].sort((a, b) => `${a.os}_${a.arch}`.localeCompare(`${b.os}_${b.arch}`));
  const targets = sorted.map((pkg) => ({
    pkg,
    ...built(MANIFEST_TYPE, {
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      artifactType: TARGET_ARTIFACT,
      config: { mediaType: EMPTY_TYPE, digest: EMPTY_DIGEST, size: EMPTY_BYTES.length, data: EMPTY_BYTES.toString('base64') },
      layers: [{ mediaType: ZIP_LAYER, digest: `sha256:${pkg.sha256}`, size: pkg.size, annotations: { 'org.opencontainers.image.title': pkg.filename } }],
    }),
  }));
  const index = built(INDEX_TYPE, {
    schemaVersion: 2,
    mediaType: INDEX_TYPE,
    artifactType: PROVIDER_ARTIFACT,
    manifests: targets.map((t) => ({
      mediaType: MANIFEST_TYPE,
      artifactType: TARGET_ARTIFACT,
      digest: t.digest,
      size: t.body.length,
      platform: { os: t.pkg.os, architecture: t.pkg.arch },
    })),
  });
  return { index, targets };
}

/** The artifactType of an OpenTofu module package (`oci://` module sources). */
export const MODULE_ARTIFACT = 'application/vnd.opentofu.modulepkg';

/** A module package's manifest: no index (modules are platform-agnostic), one `archive/zip` layer. */
export function buildModule(zip: { sha256: string; size: number }): BuiltManifest {
  return built(MANIFEST_TYPE, {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    artifactType: MODULE_ARTIFACT,
    config: { mediaType: EMPTY_TYPE, digest: EMPTY_DIGEST, size: EMPTY_BYTES.length, data: EMPTY_BYTES.toString('base64') },
    layers: [{ mediaType: ZIP_LAYER, digest: `sha256:${zip.sha256}`, size: zip.size }],
  });
}
