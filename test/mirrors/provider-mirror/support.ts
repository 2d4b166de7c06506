/**
 * What the `provider_mirror` tests share: real provider zips per platform,
 * regcache started the README way with one `provider_mirror` instance at
 * /oci-mirror, `terraform init` through its network mirror, HTTPS reads of
 * its answers, and the store's objects of the instance.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlatformZip } from '../../fakes/provider-mirror-registry.js';
import { httpsRequest, type HttpsResponse } from '../../fakes/https-request.js';
import { readFile } from 'node:fs/promises';
import { makeProviderZip } from '../../support/provider-fixtures.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';
import { mainTfFor, networkMirrorCliConfig, runTerraform, type TerraformRun } from '../../support/terraform.js';

/** The platforms the tests publish (this machine's is linux_amd64). */
export const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];

/** Real provider zips of one version, one per platform. */
export function providerZips(type: string, version: string): Promise<PlatformZip[]> {
  return Promise.all(PLATFORMS.map(async (p) => ({ ...p, zip: await makeProviderZip({ type, version, ...p }) })));
}

/** Starts regcache (TLS, self-signed) with the `tfoci` instance reading `originUrl`. */
export function startMirror(originUrl: string, block: Record<string, unknown> = {}): Promise<RegcacheProcess> {
  return startRegcache({
    instances: [{ name: 'tfoci', provider_mirror: { route: { path: '/oci-mirror' }, origin_url: originUrl, name_prefix: 'terraform-providers', proxy_packages: true, ...block } }],
  });
}

/** `terraform init` of `providers` (registry.terraform.io addresses) through the instance's network mirror. */
export async function initThrough(regcache: RegcacheProcess, providers: Record<string, string>, credentials?: string): Promise<TerraformRun> {
  const host = new URL(regcache.url).host;
  const creds = credentials === undefined ? '' : `credentials "${host}" {\n  token = "${credentials}"\n}\n`;
  return runTerraform({ mainTf: mainTfFor(providers), cliConfig: networkMirrorCliConfig(`${regcache.url}/oci-mirror/`) + creds, caFile: regcache.caPath ?? '' });
}

/** GET of a path below regcache's URL, trusting its CA. */
export async function get(regcache: RegcacheProcess, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpsResponse> {
  return httpsRequest(`${regcache.url}${path}`, { ca: await readFile(regcache.caPath ?? '', 'utf8'), headers, method });
}

/** The object files stored for the instance (paths below its key prefix). */
export async function storedObjects(regcache: RegcacheProcess): Promise<string[]> {
  const root = join(regcache.dataDir, 'cache', 'objects', 'provider-mirror', 'tfoci');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}
