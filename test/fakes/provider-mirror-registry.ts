/**
 * Provider artifacts for the `provider_mirror` tests, pushed to the real
 * `docker-registry` of test/fakes/oci-registry.ts through the OCI
 * Distribution HTTP API (monolithic blob uploads, manifest PUTs), in both
 * layouts the mode reads: OpenTofu's (an index of per-platform manifests)
 * and oci-distribution-terraform-registry's (one manifest, platforms in a
 * layer annotation).
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';

/** The sha256 digest of bytes, as OCI writes it. */
export function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Pushes content to one registry (with an Authorization when it wants one). */
export interface RegistryPusher {
  blob(repo: string, bytes: Buffer): Promise<{ digest: string; size: number }>;
  manifest(repo: string, reference: string, mediaType: string, body: Buffer): Promise<string>;
}

/** A pusher over the distribution HTTP API; `authorization(repo)` gives a push token when needed. */
export function registryPusher(url: string, authorization: (repo: string) => Promise<string | undefined> = () => Promise.resolve(undefined)): RegistryPusher {
  const auth = async (repo: string): Promise<Record<string, string>> => {
    const a = await authorization(repo);
    return a === undefined ? {} : { authorization: a };
  };
  return {
    async blob(repo, bytes) {
      const digest = digestOf(bytes);
      const headers = await auth(repo);
      const start = await request(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
      await start.body.dump();
      const location = start.headers.location;
      if (start.statusCode !== 202 || typeof location !== 'string') throw new Error(`blob upload start: ${start.statusCode}`);
      const target = new URL(location, url);
      target.searchParams.set('digest', digest);
      const put = await request(target.toString(), { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: bytes });
      await put.body.dump();
      if (put.statusCode !== 201) throw new Error(`blob upload: ${put.statusCode}`);
      return { digest, size: bytes.length };
    },
    async manifest(repo, reference, mediaType, body) {
      const r = await request(`${url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { ...(await auth(repo)), 'content-type': mediaType }, body });
      const text = await r.body.text();
      if (r.statusCode !== 201) throw new Error(`manifest PUT ${repo}:${reference}: ${r.statusCode} ${text}`);
      return digestOf(body);
    },
  };
}

const EMPTY_CONFIG = Buffer.from('{}');

/** One platform's zip. */
export interface PlatformZip {
  os: string;
  arch: string;
  zip: Buffer;
}

/**
 * Pushes a provider version in OpenTofu's layout: one image manifest per
 * platform (artifactType provider-target, one archive/zip layer), and an
 * image index (artifactType provider) tagged with the version ('+' → '_').
 */
export async function pushOpenTofuProvider(push: RegistryPusher, repo: string, version: string, zips: readonly PlatformZip[]): Promise<{ index: string; manifests: Record<string, string> }> {
  const config = await push.blob(repo, EMPTY_CONFIG);
  const entries: unknown[] = [];
  const manifests: Record<string, string> = {};
  for (const z of zips) {
    const layer = await push.blob(repo, z.zip);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.opentofu.provider-target',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
        layers: [{ mediaType: 'archive/zip', ...layer, annotations: { 'org.opencontainers.image.title': `terraform-provider_${version}_${z.os}_${z.arch}.zip` } }],
      }),
    );
    const digest = await push.manifest(repo, digestOf(manifest), 'application/vnd.oci.image.manifest.v1+json', manifest);
    manifests[`${z.os}_${z.arch}`] = digest;
    entries.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.opentofu.provider-target',
      digest,
      size: manifest.length,
      platform: { os: z.os, architecture: z.arch },
    });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', artifactType: 'application/vnd.opentofu.provider', manifests: entries }));
  return { index: await push.manifest(repo, version.replace(/\+/g, '_'), 'application/vnd.oci.image.index.v1+json', index), manifests };
}

/**
 * Pushes a provider version in the experimental oci-distribution-terraform-registry
 * layout: one image manifest, a provider config, one layer per zip naming its platforms.
 */
export async function pushSeedProvider(push: RegistryPusher, repo: string, version: string, zips: readonly PlatformZip[]): Promise<string> {
  const config = await push.blob(repo, Buffer.from(JSON.stringify({ version })));
  const layers = [];
  for (const z of zips) {
    layers.push({ mediaType: 'application/vnd.hashicorp.terraform.provider-package+zip', ...(await push.blob(repo, z.zip)), annotations: { 'io.terraform.target-platforms': `${z.os}_${z.arch}` } });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.hashicorp.terraform-provider.config.v1+json', ...config },
      layers,
    }),
  );
  return push.manifest(repo, version, 'application/vnd.oci.image.manifest.v1+json', manifest);
}
