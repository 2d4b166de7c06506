/**
 * What every scenario is measured against: two fake origins (a fast one for
 * warm scenarios and init, a slow one with real latency and bandwidth for
 * cold fills), the published providers, a static mirror directory made by
 * `terraform providers mirror`, and the TLS material nginx serves.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCa, issueServerCert } from '../src/http/self-signed.js';
import { startOriginRegistry, type OriginRegistry } from '../test/fakes/origin-registry.js';
import { mainTfFor, runTerraform } from '../test/support/terraform.js';
import type { BenchSettings } from './support/settings.js';

export const NS = 'bench';
export const PLATFORM = { os: 'linux', arch: 'amd64' } as const;
export const VERSION = '1.0.0';

/** The zip file name Terraform's release layout uses. */
export function zipName(type: string, version: string): string {
  return `terraform-provider-${type}_${version}_${PLATFORM.os}_${PLATFORM.arch}.zip`;
}

/** Provider type of the i-th artifact size of scenario 1. */
export const sizeType = (i: number): string => `size${i}`;
/** Provider type of the i-th provider of the init scenario. */
export const initType = (i: number): string => `init${String(i).padStart(2, '0')}`;
/** Provider type of the i-th provider cached for the startup scenario. */
export const manyType = (i: number): string => `many${String(i).padStart(4, '0')}`;
/** The cold provider's version used in round r. */
export const coldVersion = (round: number): string => `1.0.${round}`;
export const COLD_TYPE = 'cold';

/** Everything prepared once per run. */
export interface Fixtures {
  fast: OriginRegistry;
  slow: OriginRegistry;
  /** PEM bundle of both origin CAs, for regcache's NODE_EXTRA_CA_CERTS. */
  originsCaFile: string;
  mirrorDir: string;
  nginxCertFile: string;
  nginxKeyFile: string;
  nginxCaFile: string;
  /** Seconds spent building zips and signatures. */
  buildSec: number;
  mirrorSec: number;
}

/** CLI config sending registry.terraform.io's provider API straight to a fake origin. */
export function directCliConfig(originUrl: string): string {
  return `host "registry.terraform.io" {\n  services = {\n    "providers.v1" = "${originUrl}/v1/providers/"\n  }\n}\n`;
}

/** Starts both origins and publishes every provider except the startup scenario's many small ones. */
export async function prepareFixtures(work: string, s: BenchSettings, log: (m: string) => void): Promise<Fixtures> {
  const fast = await startOriginRegistry();
  const slow = await startOriginRegistry({ latencyMs: s.cold.latencyMs, bytesPerSecond: s.cold.bytesPerSecond });
  const originsCaFile = join(work, 'origins-ca.pem');
  await writeFile(originsCaFile, `${fast.caPem}\n${slow.caPem}`);

  const built = performance.now();
  const jobs: Array<Promise<void>> = [];
  s.artifactSizes.forEach((size, i) => {
    jobs.push(fast.addProvider({ namespace: NS, type: sizeType(i), versions: [{ version: VERSION, platforms: [PLATFORM], extraBytes: size.extraBytes }] }));
  });
  for (let i = 1; i <= s.initProviders; i++) {
    jobs.push(fast.addProvider({ namespace: NS, type: initType(i), versions: [{ version: VERSION, platforms: [PLATFORM], extraBytes: 100_000 }] }));
  }
  for (let r = 1; r <= s.rounds; r++) {
    jobs.push(slow.addProvider({ namespace: NS, type: COLD_TYPE, versions: [{ version: coldVersion(r), platforms: [PLATFORM], extraBytes: s.cold.bytes }] }));
  }
  await Promise.all(jobs);
  const buildSec = (performance.now() - built) / 1000;
  log(`fixtures: zips and signatures built in ${buildSec.toFixed(1)} s`);

  const mirrorDir = join(work, 'static-mirror');
  const mirrored = performance.now();
  const providers: Record<string, string> = {};
  s.artifactSizes.forEach((_, i) => (providers[`${NS}/${sizeType(i)}`] = VERSION));
  for (let i = 1; i <= s.initProviders; i++) providers[`${NS}/${initType(i)}`] = VERSION;
  const tfDir = join(work, 'tf-mirror');
  await mkdir(tfDir, { recursive: true });
  const r = await runTerraform({
    mainTf: mainTfFor(providers),
    cliConfig: directCliConfig(fast.url),
    caFile: fast.caFile,
    args: ['providers', 'mirror', `-platform=${PLATFORM.os}_${PLATFORM.arch}`, mirrorDir],
    dir: tfDir,
  });
  if (r.code !== 0) throw new Error(`terraform providers mirror failed:\n${r.stdout}\n${r.stderr}`);
  const mirrorSec = (performance.now() - mirrored) / 1000;
  log(`fixtures: static mirror written by terraform providers mirror in ${mirrorSec.toFixed(1)} s`);

  const ca = await generateCa('regcache bench nginx CA');
  const cert = await issueServerCert(ca, ['127.0.0.1', 'localhost']);
  const nginxCertFile = join(work, 'nginx-cert.pem');
  const nginxKeyFile = join(work, 'nginx-key.pem');
  const nginxCaFile = join(work, 'nginx-ca.pem');
  await writeFile(nginxCertFile, cert.certPem);
  await writeFile(nginxKeyFile, cert.keyPem, { mode: 0o600 });
  await writeFile(nginxCaFile, ca.certPem);
  return { fast, slow, originsCaFile, mirrorDir, nginxCertFile, nginxKeyFile, nginxCaFile, buildSec, mirrorSec };
}

/** Network-mirror path of a zip below `/v1/mirror/` (regcache). */
export function regcacheZipPath(type: string, version = VERSION): string {
  return `/v1/mirror/registry.terraform.io/${NS}/${type}/${version}/${PLATFORM.os}_${PLATFORM.arch}/${zipName(type, version)}`;
}

/** Path of the same zip in the static mirror directory (nginx). */
export function staticZipPath(type: string, version = VERSION): string {
  return `/registry.terraform.io/${NS}/${type}/${zipName(type, version)}`;
}

/** Metadata paths: regcache's and the static mirror's, for index.json and <version>.json. */
export function metadataPaths(type: string): Array<{ file: string; regcache: string; nginx: string }> {
  return [
    { file: 'index.json', regcache: `/v1/mirror/registry.terraform.io/${NS}/${type}/index.json`, nginx: `/registry.terraform.io/${NS}/${type}/index.json` },
    { file: `${VERSION}.json`, regcache: `/v1/mirror/registry.terraform.io/${NS}/${type}/${VERSION}.json`, nginx: `/registry.terraform.io/${NS}/${type}/${VERSION}.json` },
  ];
}
