/**
 * What the `tofu_oci` tests share: the fake origin registry
 * (test/fakes/origin-registry.ts: real zips, signed SHA256SUMS) standing
 * in for registry.terraform.io, regcache started the README way with one
 * `tofu_oci` instance on a listener of its own, and the real `skopeo` as
 * the OCI client (OpenTofu's `tofu` is not installable here).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../fakes/oci-registry.js';
import { startOriginRegistry, type OriginRegistry } from '../../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';
import { skopeo, type SkopeoRun } from '../oci/support.js';

export { skopeo, type SkopeoRun };

/** The registry host the fake origin stands in for. */
export const HOST = 'registry.terraform.io';
/** The provider every test publishes. */
export const NS = 'acme';
export const TYPE = 'widget';
export const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];

/** A running origin and regcache. */
export interface TofuOciSetup {
  origin: OriginRegistry;
  proc: RegcacheProcess;
  /** host:port of the tofu_oci listener. */
  host: string;
  url: string;
  stop(): Promise<void>;
}

/** Starts the origin with acme/widget 1.0.0 and 2.0.0-rc.1+build.7 and regcache in front of it. */
export async function startTofuOci(block: Record<string, unknown> = {}): Promise<TofuOciSetup> {
  const origin = await startOriginRegistry();
  await origin.addProvider({
    namespace: NS,
    type: TYPE,
    versions: [
      { version: '1.0.0', platforms: PLATFORMS },
      { version: '2.0.0-rc.1+build.7', platforms: PLATFORMS.slice(0, 1) },
    ],
  });
  const port = await freePort();
  const proc = await startRegcache(
    {
      server: { tls: false },
      instances: [{ name: 'tofu', tofu_oci: { bind: `127.0.0.1:${port}`, upstreams: [{ host: HOST, url: origin.url }], ...block } }],
    },
    { NODE_EXTRA_CA_CERTS: origin.caFile },
  );
  return {
    origin,
    proc,
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await proc.stop();
      await origin.stop();
    },
  };
}

/** The repository of acme/widget under the default prefix. */
export const REPO = `providers/${HOST}/${NS}/${TYPE}`;

/** `skopeo inspect --raw` of `ref` (repo:tag or repo@digest) through regcache. */
export async function inspectRaw(host: string, ref: string): Promise<SkopeoRun> {
  return skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`);
}

/** `skopeo copy --all` into a fresh OCI layout directory (returned with the run). */
export async function copyAll(host: string, ref: string, dir: string): Promise<SkopeoRun> {
  return skopeo('copy', '--all', '--src-tls-verify=false', `docker://${host}/${ref}`, `oci:${dir}:out`);
}

/** A blob of an OCI layout directory. */
export function layoutBlob(dir: string, digest: string): Promise<Buffer> {
  return readFile(join(dir, 'blobs', ...digest.split(':')));
}

/** A parsed JSON document of a skopeo run's stdout. */
export function parsed<T>(run: SkopeoRun): T {
  if (run.code !== 0) throw new Error(`skopeo failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** The shapes the tests read. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
  data?: string;
}
export interface Index {
  schemaVersion: number;
  mediaType: string;
  artifactType?: string;
  manifests: Descriptor[];
}
export interface Manifest {
  schemaVersion: number;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
}
