/**
 * What the npm mode's end-to-end tests share: regcache started from a YAML
 * config with one `npm` instance (`npmjs` at /npm), the real `npm` client
 * run in a temp project with an isolated user and global config, a fresh
 * cache directory per run unless given, and the store's npm objects.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NpmOrigin } from '../../fakes/npm-origin.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';

/** Starts regcache (plain HTTP) with an `npm` instance `npmjs` at /npm over `origin`. */
export function startNpmCache(origin: NpmOrigin, block: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<RegcacheProcess> {
  return startRegcache(
    {
      ...extra,
      server: { tls: false, ...(extra.server as object | undefined) },
      instances: [{ name: 'npmjs', npm: { route: { path: '/npm' }, upstream: origin.url, metadata_fresh_for: '1s', ...block } }],
    },
    origin.caFile ? { NODE_EXTRA_CA_CERTS: origin.caFile } : {},
  );
}

/** A finished client process. */
export interface NpmRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temp project directory with a package.json depending on `dependencies`. */
export async function makeProject(dependencies: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-npm-project-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'regcache-npm-test', version: '1.0.0', private: true, dependencies }, null, 2));
  return dir;
}

/** Options of one npm run. */
export interface NpmRunOptions {
  /** Bearer token for the registry (written as `//host/path/:_authToken`). */
  token?: string;
  /** npm's cache directory (default: a fresh one). */
  cache?: string;
}

/** Runs `npm <args>` in `project` against `registry` (ends with '/'), isolated from this machine's npm config. */
export async function npm(project: string, registry: string, args: readonly string[], opts: NpmRunOptions = {}): Promise<NpmRun> {
  const conf = await mkdtemp(join(tmpdir(), 'regcache-npm-conf-'));
  await writeFile(join(conf, 'user-npmrc'), opts.token ? `${registry.replace(/^https?:/, '')}:_authToken=${opts.token}\n` : '');
  await writeFile(join(conf, 'global-npmrc'), '');
  const full = [
    ...args,
    '--registry', registry,
    '--cache', opts.cache ?? join(conf, 'cache'),
    '--userconfig', join(conf, 'user-npmrc'),
    '--globalconfig', join(conf, 'global-npmrc'),
    '--no-audit', '--no-fund', '--no-update-notifier', '--fetch-retries', '0', '--prefer-online',
  ];
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.toLowerCase().startsWith('npm_config_')) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn('npm', full, { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The lock file of a project. */
export async function lockOf(project: string): Promise<{ packages: Record<string, { version?: string; resolved?: string; integrity?: string }> }> {
  return JSON.parse(await readFile(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; resolved?: string; integrity?: string }> };
}

/** The installed package.json of a dependency. */
export async function installed(project: string, name: string): Promise<{ name: string; version: string }> {
  return JSON.parse(await readFile(join(project, 'node_modules', name, 'package.json'), 'utf8')) as { name: string; version: string };
}

/** Stored tarball object files of the fs store's npm instance (relative paths). */
export async function storedTarballs(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'cache', 'objects', 'npm');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.tgz~obj')).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}

/** A GET through fetch (no proxy): status, lower-cased headers and body. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const res = await fetch(url, { headers });
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  return { status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A GET whose path is sent exactly as written (no dot-segment normalization); the status. */
export function rawStatus(origin: string, path: string): Promise<number> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}
