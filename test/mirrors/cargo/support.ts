/**
 * What the `cargo` mode's end-to-end tests share: regcache started the
 * README way with a `cargo` instance named `crates` at /cargo (over TLS by
 * default, trusting the fake registry's CA), the real `cargo` binary run
 * on a fresh temporary project with a fresh CARGO_HOME whose config
 * replaces crates.io with regcache's sparse index, and the store's crate
 * objects.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CargoOrigin } from '../../fakes/cargo-origin.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';

/** The cargo binary the tests run: $CARGO, rustup's ~/.cargo/bin, or Debian's /usr/bin (.ci/ensure-tools installs it when none is there). */
export const CARGO = [process.env.CARGO, join(homedir(), '.cargo', 'bin', 'cargo'), '/usr/bin/cargo'].find((p): p is string => p !== undefined && existsSync(p)) ?? 'cargo';

/** Starts regcache with a `cargo` instance `crates` at /cargo over `o` (TLS unless `extra.server.tls` is false). */
export function startCargoCache(o: CargoOrigin, block: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<RegcacheProcess> {
  return startRegcache(
    {
      ...extra,
      instances: [{ name: 'crates', cargo: { route: { path: '/cargo' }, upstream: o.url, index_fresh_for: '5m', ...block } }, ...((extra.instances as unknown[] | undefined) ?? [])],
    },
    { ...(o.caFile !== undefined ? { NODE_EXTRA_CA_CERTS: o.caFile } : {}), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  );
}

/** A finished cargo run. */
export interface CargoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary crate project with its own CARGO_HOME pointed at one regcache. */
export interface CargoProject {
  dir: string;
  home: string;
  /** Runs `cargo <args>` in the project. */
  run(...args: string[]): Promise<CargoRun>;
  /** `[[package]]` name → version pairs of Cargo.lock ("name@version"), sorted, the project itself left out. */
  locked(): Promise<string[]>;
}

/** Creates a project depending on `deps` (name → requirement) that fetches through `p` (its CA trusted when TLS). */
export async function cargoProject(p: Pick<RegcacheProcess, 'url' | 'caPath'>, deps: Record<string, string>, opts: { token?: string; mount?: string } = {}): Promise<CargoProject> {
  const root = await mkdtemp(join(tmpdir(), 'regcache-cargo-'));
  const dir = join(root, 'app');
  const home = join(root, 'cargo-home');
  await mkdir(join(dir, 'src'), { recursive: true });
  await mkdir(home, { recursive: true });
  const toml = ['[package]', 'name = "app"', 'version = "0.1.0"', 'edition = "2021"', '', '[dependencies]', ...Object.entries(deps).map(([n, r]) => `${n} = "${r}"`), ''];
  await writeFile(join(dir, 'Cargo.toml'), toml.join('\n'));
  await writeFile(join(dir, 'src', 'lib.rs'), '');
  const index = `sparse+${p.url}${opts.mount ?? '/cargo'}/`;
  const config = ['[source.crates-io]', 'replace-with = "regcache"', '', '[source.regcache]', `registry = "${index}"`, ''];
  if (p.caPath !== undefined && p.url.startsWith('https:')) config.push('[http]', `cainfo = "${p.caPath}"`, '');
  if (opts.token !== undefined) config.push('[registries.regcache]', `index = "${index}"`, `token = "${opts.token}"`, 'credential-provider = "cargo:token"', '');
  await writeFile(join(home, 'config.toml'), config.join('\n'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/proxy|^CARGO|^RUST/i.test(k) || /^RUSTUP/.test(k)) env[k] = v;
  Object.assign(env, { CARGO_HOME: home, CARGO_NET_RETRY: '0', CARGO_TERM_COLOR: 'never', CARGO_HTTP_TIMEOUT: '60', PATH: `${dirname(CARGO)}:${process.env.PATH ?? ''}` });
  return {
    dir,
    home,
    run: (...args) =>
      new Promise((resolve, reject) => {
        const child = spawn(CARGO, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      }),
    async locked() {
      const lock = await readFile(join(dir, 'Cargo.lock'), 'utf8');
      const out: string[] = [];
      for (const m of lock.matchAll(/\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"/g)) if (m[1] !== 'app') out.push(`${m[1]}@${m[2]}`);
      return out.sort();
    },
  };
}

/** `cargo generate-lockfile` then `cargo fetch`; throws with cargo's output when either fails. */
export async function install(project: CargoProject): Promise<void> {
  for (const cmd of ['generate-lockfile', 'fetch']) {
    const r = await project.run(cmd);
    if (r.code !== 0) throw new Error(`cargo ${cmd} failed (${r.code}):\n${r.stderr}`);
  }
}

/** The `.crate` files cargo unpacked or cached in a CARGO_HOME ("name-version.crate"), sorted. */
export async function cachedCrates(home: string): Promise<string[]> {
  const root = join(home, 'registry', 'cache');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.crate')).map((e) => e.name).sort();
}

/** Stored `.crate` objects of instance `crates` in an fs store (relative object paths). */
export async function storedCrates(dataDir: string, instance = 'crates'): Promise<string[]> {
  const root = join(dataDir, 'cache', 'objects', 'cargo', instance, 'c');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('~obj'))
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .filter((p) => p.includes('/v/'))
    .sort();
}

/** Requests the origin's dl host saw for `.crate` files. */
export function crateDownloads(o: CargoOrigin): number {
  return o.requests.filter((r) => r.path.endsWith('.crate') || r.path.endsWith('/download')).length;
}
