/**
 * What the `file` mode's end-to-end tests share: regcache started from a
 * YAML config with one `file` instance (regcache's format, or a cache-proxy
 * file as it is), real `curl` and `wget` processes, the store's file
 * objects, and metric samples.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeKeySegment } from '../../../src/core/keys.js';
import { startRegcache, type RegcacheProcess } from '../../support/regcache-process.js';

const CLI = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

/** Starts regcache (plain HTTP) with a `file` instance named `files` mounted at /files (plus any `extra.instances`). */
export function startFileCache(block: Record<string, unknown>, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<RegcacheProcess> {
  return startRegcache(
    {
      ...extra,
      server: { tls: false, ...(extra.server as object | undefined) },
      instances: [{ name: 'files', file: { route: { path: '/files' }, ...block } }, ...((extra.instances as unknown[] | undefined) ?? [])],
    },
    env,
  );
}

/** A finished client process. */
export interface ClientRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: readonly string[]): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** `curl -sS <args>` (body on stdout); add -f to fail on HTTP errors. */
export function curl(...args: string[]): Promise<ClientRun> {
  return run('curl', ['-sS', '--noproxy', '*', ...args]);
}

/** `curl -sS -i` split into status, lower-cased headers and body. */
export async function curlHead(...args: string[]): Promise<{ status: number; headers: Record<string, string>; body: Buffer; code: number | null }> {
  const r = await curl('-i', ...args);
  const sep = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.subarray(0, sep < 0 ? r.stdout.length : sep).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(head[0]?.split(' ')[1] ?? 0), headers, body: sep < 0 ? Buffer.alloc(0) : r.stdout.subarray(sep + 4), code: r.code };
}

/** `wget -q -O FILE url`; the downloaded bytes when wget succeeded. */
export async function wget(url: string): Promise<ClientRun & { file: Buffer | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-wget-'));
  const target = join(dir, 'out');
  const r = await run('wget', ['-q', '--no-proxy', '--tries=1', '-O', target, url]);
  return { ...r, file: r.code === 0 ? await readFile(target) : undefined };
}

/** Object files of the fs store under `file/` (relative paths), to see what was stored. */
export async function storedFiles(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'cache', 'objects', 'file');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}

/** The object file (as `storedFiles` names it) of a file path of an instance. */
export function objectFile(path: string, instance = 'files'): string {
  return `${instance}/${path.split('/').map(encodeKeySegment).join('/')}~obj`;
}

/** Sums the samples of `name` whose labels contain every `label="value"` given. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** The /metrics text of a running regcache. */
export async function metricsOf(p: RegcacheProcess): Promise<string> {
  return (await curl(`${p.url}/metrics`)).stdout.toString();
}

/** Random bytes of a given size, deterministic per seed. */
export function bytes(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Starts the built CLI on a config file written as given (a cache-proxy file, unchanged); waits until it listens. */
export async function startFromYaml(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<{ url: string; stop: () => Promise<void>; output: () => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-cpfile-'));
  const file = join(dir, 'cache-proxy.yaml');
  await writeFile(file, yaml);
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      for (const line of text.split('\n')) {
        if (!line.includes('regcache listening')) continue;
        clearInterval(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    }, 20);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`regcache exited before listening:\n${text}`));
    });
  });
  return {
    url,
    output: () => text,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
