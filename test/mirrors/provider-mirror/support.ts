/**
 * What the `provider_mirror` tests share: the upstream (Debian's
 * `docker-registry` with token authentication from the tests' token
 * server, behind the counting relay: the oci mode's fixtures), real
 * provider zips per platform, regcache started the README way with one
 * `provider_mirror` instance at /oci-mirror, `terraform init` through its
 * network mirror, HTTPS reads of its answers, the instance's stored
 * objects, and the encodings of a credential no URL may contain.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsRequest, type HttpsResponse } from '../../fakes/https-request.js';
import { startOciRegistry, type OciRegistry } from '../../fakes/oci-registry.js';
import { startOciRelay, type OciRelay } from '../../fakes/oci-relay.js';
import { startOciTokenServer, type OciTokenServer } from '../../fakes/oci-token-server.js';
import { registryPusher, type PlatformZip, type RegistryPusher } from '../../fakes/provider-mirror-registry.js';
import { makeProviderZip } from '../../support/provider-fixtures.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';
import { mainTfFor, networkMirrorCliConfig, runTerraform, type TerraformRun } from '../../support/terraform.js';

const PUSHER = { name: 'pusher', password: 'push-secret-1' };
const READER = { name: 'reader', password: 'read-secret-2' };

/** Token server, relay (regcache's origin_url, the realm too) and registry, wired together. */
export interface ProviderUpstream {
  token: OciTokenServer;
  relay: OciRelay;
  registry: OciRegistry;
  push: RegistryPusher;
  /** A pull token for `repo` as the token server gives the reading user (what a Terraform user holds). */
  readerToken(repo: string): Promise<string>;
  close(): Promise<void>;
}

async function tokenFor(token: OciTokenServer, user: { name: string; password: string }, scope: string): Promise<string> {
  const res = await fetch(`${token.url}/token?service=${token.service}&scope=${scope}`, { headers: { authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}` } });
  return ((await res.json()) as { token: string }).token;
}

/** Starts the upstream. Anonymous clients may pull every repository outside `private/`. */
export async function startProviderUpstream(): Promise<ProviderUpstream> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-pm-upstream-'));
  const token = await startOciTokenServer(dir, { [PUSHER.name]: { password: PUSHER.password, push: true }, [READER.name]: { password: READER.password, push: false } });
  const relay = await startOciRelay(token.url);
  const registry = await startOciRegistry({ realm: `${relay.url}/token`, service: token.service, issuer: token.issuer, certFile: token.certFile });
  relay.target = registry.url;
  return {
    token,
    relay,
    registry,
    push: registryPusher(registry.url, async (repo) => `Bearer ${await tokenFor(token, PUSHER, `repository:${repo}:pull,push`)}`),
    readerToken: (repo) => tokenFor(token, READER, `repository:${repo}:pull`),
    async close() {
      await relay.close();
      await registry.close();
      await token.close();
    },
  };
}

/** Downloads (answered 200) of blobs, or of one blob by its sha256 hex. */
export function blobDownloads(relay: OciRelay, hex?: string): number {
  return relay.count('GET', hex === undefined ? /\/blobs\/sha256:/ : new RegExp(`/blobs/sha256:${hex}$`), 200);
}

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

/**
 * A credential (an Authorization value) and its token, as text and in every
 * common encoding (base64, base64url, hex, percent-encoding): none may ever
 * appear in a URL.
 */
export function encodingsOf(credential: string): string[] {
  const token = credential.replace(/^Bearer /, '');
  const forms = new Set<string>();
  for (const text of [credential, token]) {
    const b = Buffer.from(text, 'utf8');
    forms.add(text);
    forms.add(encodeURIComponent(text));
    forms.add(b.toString('base64').replace(/=+$/, ''));
    forms.add(b.toString('base64url'));
    forms.add(b.toString('hex'));
    forms.add(b.toString('hex').toUpperCase());
  }
  return [...forms];
}
