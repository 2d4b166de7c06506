/**
 * What the `pypi` tests share: regcache started the README way (the built
 * CLI with a YAML config) with one `pypi` instance in front of the fake
 * PyPI (test/fakes/pypi-origin.ts), the real `pip` run isolated from this
 * machine's pip configuration, and the store's pypi objects.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PypiOrigin } from '../../fakes/pypi-origin.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';

/** Starts regcache (HTTPS, self-signed) with a `pypi` instance `pypi` at /pypi in front of `origin`. */
export function startPypiCache(origin: PypiOrigin, block: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<RegcacheProcess> {
  return startRegcache(
    { ...extra, instances: [{ name: 'pypi', pypi: { route: { path: '/pypi' }, upstream: origin.indexUrl, ...block } }] },
    { NODE_EXTRA_CA_CERTS: origin.caFile },
  );
}

/** A finished client process. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * pip's environment: this machine's PIP_* settings (extra indexes,
 * find-links, a cert) and the requests CA bundle variables (which would
 * override `--cert`) are left out.
 */
function pipEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PIP_') || k === 'REQUESTS_CA_BUNDLE' || k === 'CURL_CA_BUNDLE') delete env[k];
  return { ...env, PIP_CONFIG_FILE: '/dev/null' };
}

/** Runs a command to its end (`env` replaces the environment when given). */
export function run(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

/** The index URL pip is given (optionally with user-info for a private project). */
export function indexUrl(p: RegcacheProcess, userinfo?: string): string {
  const u = new URL(`${p.url}/pypi/simple/`);
  if (userinfo !== undefined) {
    const [user = '', pass = ''] = userinfo.split(':');
    u.username = user;
    u.password = pass;
  }
  return u.href;
}

/** `pip --isolated install --no-cache-dir --index-url … --target <fresh dir> pkgs`; the target dir with the result. */
export async function pipInstall(p: RegcacheProcess, pkgs: readonly string[], opts: { userinfo?: string; extra?: string[] } = {}): Promise<Run & { target: string }> {
  const target = await mkdtemp(join(tmpdir(), 'regcache-pip-'));
  const args = ['--isolated', 'install', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '--retries', '0', '--timeout', '60'];
  if (p.caPath !== undefined) args.push('--cert', p.caPath);
  args.push('--index-url', indexUrl(p, opts.userinfo), '--target', target, ...(opts.extra ?? []), ...pkgs);
  const r = await run('pip', args, pipEnv());
  return { ...r, target };
}

/** `pip --isolated download --no-deps …` into a fresh dir; the dir. */
export async function pipDownload(p: RegcacheProcess, pkgs: readonly string[], extra: string[] = []): Promise<Run & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-pipdl-'));
  const args = ['--isolated', 'download', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '--retries', '0'];
  if (p.caPath !== undefined) args.push('--cert', p.caPath);
  args.push('--index-url', indexUrl(p), '--dest', dir, ...extra, ...pkgs);
  return { ...(await run('pip', args, pipEnv())), dir };
}

/** The `__version__` of an installed module in a pip target dir, or undefined. */
export async function installedVersion(target: string, mod: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(target, mod, '__init__.py'), 'utf8');
    return /__version__ = "([^"]+)"/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** Object files of the fs store under `pypi/` (relative paths). */
export async function storedObjects(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'cache', 'objects', 'pypi');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('~obj')).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}

/** GET with curl (trusting regcache's CA): status, headers, body. */
export async function fetchText(p: RegcacheProcess, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const args = ['-sS', '-i', '--noproxy', '*'];
  if (p.caPath !== undefined) args.push('--cacert', p.caPath);
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(`${p.url}${path}`);
  const r = await run('curl', args);
  const sep = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.slice(0, sep < 0 ? r.stdout.length : sep).split('\r\n');
  const out: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(head[0]?.split(' ')[1] ?? 0), headers: out, body: sep < 0 ? '' : r.stdout.slice(sep + 4) };
}
