/**
 * What the `oci` mode's end-to-end tests share: the upstream (Debian's
 * docker-registry with token auth from the tests' token server, behind the
 * counting relay), images pushed to it with skopeo from generated OCI
 * layouts, regcache started the README way with one `oci` instance on a
 * listener of its own, and the real `skopeo` as the client.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLayout, type Layout } from '../../fakes/oci-layout.js';
import { freePort, startOciRegistry, type OciRegistry } from '../../fakes/oci-registry.js';
import { startOciRelay, type OciRelay } from '../../fakes/oci-relay.js';
import { startOciTokenServer, type OciTokenServer } from '../../fakes/oci-token-server.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';

/** The pushing user of the token server. */
export const PUSHER = { name: 'pusher', password: 'push-secret-1' };
/** A user who may pull `private/…` repositories (regcache's configured credential). */
export const READER = { name: 'reader', password: 'read-secret-2' };

/** A finished skopeo run. */
export interface SkopeoRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The upstream side of a test. */
export interface Upstream {
  token: OciTokenServer;
  relay: OciRelay;
  registry: OciRegistry;
  dir: string;
  /** Generates a layout and pushes it to `repo:tag` (all platforms). */
  push(repo: string, tag: string, platforms: Array<{ os: string; architecture: string }>, seed: string, layerBytes?: number): Promise<Layout>;
  close(): Promise<void>;
}

let policyFile: string | undefined;

/** A skopeo policy accepting anything (tests pull unsigned images). */
async function policy(): Promise<string> {
  if (policyFile !== undefined) return policyFile;
  const dir = await mkdtemp(join(tmpdir(), 'regcache-skopeo-'));
  policyFile = join(dir, 'policy.json');
  await writeFile(policyFile, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  return policyFile;
}

/** Runs skopeo with an accept-anything policy. */
export async function skopeo(...args: string[]): Promise<SkopeoRun> {
  const [sub, ...rest] = args;
  const full = sub === 'copy' ? ['--policy', await policy(), sub, ...rest] : args;
  const authDir = await mkdtemp(join(tmpdir(), 'regcache-skopeo-auth-'));
  return new Promise((resolve) => {
    execFile('skopeo', full, { env: { ...process.env, REGISTRY_AUTH_FILE: join(authDir, 'auth.json') }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** Starts token server, relay and registry, wired together. */
export async function startUpstream(): Promise<Upstream> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-oci-up-'));
  const token = await startOciTokenServer(dir, { [PUSHER.name]: { password: PUSHER.password, push: true }, [READER.name]: { password: READER.password, push: false } });
  const relay = await startOciRelay(token.url);
  const registry = await startOciRegistry({ realm: `${relay.url}/token`, service: token.service, issuer: token.issuer, certFile: token.certFile });
  relay.target = registry.url;
  let n = 0;
  return {
    token,
    relay,
    registry,
    dir,
    async push(repo, tag, platforms, seed, layerBytes) {
      const layout = await writeLayout(join(dir, `layout-${n++}`), tag, platforms, seed, layerBytes);
      const run = await skopeo('copy', '--all', '--dest-tls-verify=false', '--dest-creds', `${PUSHER.name}:${PUSHER.password}`, `oci:${layout.dir}:${tag}`, `docker://${registry.host}/${repo}:${tag}`);
      if (run.code !== 0) throw new Error(`push failed: ${run.stderr}`);
      return layout;
    },
    async close() {
      await registry.close();
      await relay.close();
      await token.close();
    },
  };
}

/** regcache with one `oci` instance named `hub` on its own listener. */
export interface OciCache {
  proc: RegcacheProcess;
  /** The oci listener's URL and host:port. */
  url: string;
  host: string;
  stop(): Promise<void>;
}

/** Starts regcache with an `oci:` block (upstream and `bind` filled in unless given). */
export async function startOciCache(upstream: string, block: Record<string, unknown>, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<OciCache> {
  const port = await freePort();
  const proc = await startRegcache(
    {
      ...extra,
      server: { tls: false, ...(extra.server as object | undefined) },
      instances: [{ name: 'hub', oci: { bind: `127.0.0.1:${port}`, upstream, ...block } }],
    },
    env,
  );
  return { proc, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, stop: async () => void (await proc.stop()) };
}

/** `skopeo inspect --raw` through regcache. */
export function inspectRaw(host: string, ref: string): Promise<SkopeoRun> {
  return skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`);
}

/** `skopeo copy --all` from regcache into a fresh OCI layout; returns the run and the layout dir. */
export async function pull(host: string, ref: string): Promise<SkopeoRun & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-oci-pull-'));
  const run = await skopeo('copy', '--all', '--src-tls-verify=false', `docker://${host}/${ref}`, `oci:${join(dir, 'out')}:x`);
  return { ...run, dir: join(dir, 'out') };
}

/** Relay counts of one repository's answered requests (200: a 401 challenge is not a download): manifest GET / HEAD and blob GETs. */
export function counts(relay: OciRelay, repo: string): { manifestGet: number; manifestHead: number; blobGet: number } {
  const esc = repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    manifestGet: relay.count('GET', new RegExp(`^/v2/${esc}/manifests/`), 200),
    manifestHead: relay.count('HEAD', new RegExp(`^/v2/${esc}/manifests/`), 200),
    blobGet: relay.count('GET', new RegExp(`^/v2/${esc}/blobs/`), 200),
  };
}
