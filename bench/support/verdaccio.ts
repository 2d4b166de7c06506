/**
 * Verdaccio, the npm side of scenario 6's comparison: an npm proxy whose
 * uplink is the same fake origin regcache uses. Installed at bench time into
 * bench/.tools/ (ignored by git through its own .gitignore) when missing,
 * pinned to the last line that runs on Node 20 (6.x refuses it). Started
 * as our child on a loopback port with a generated config: storage in the
 * work directory, web UI and audit middleware off, logs at warn.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { exited, runCommand, stopChild, track } from './children.js';
import { freePort } from './nginx.js';

export const VERDACCIO_VERSION = '5.33.0';

const TOOLS = fileURLToPath(new URL('../../../bench/.tools/', import.meta.url));
const BIN = join(TOOLS, 'node_modules', 'verdaccio', 'bin', 'verdaccio');

/** npm's environment without the `npm_config_*` variables `npm run` sets (they would override the flags). */
export function cleanNpmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.toLowerCase().startsWith('npm_config_')) delete env[k];
  return env;
}

/** Installs verdaccio@VERDACCIO_VERSION into bench/.tools/ unless that exact version is there. */
export async function ensureVerdaccio(log: (m: string) => void): Promise<string> {
  const pkgFile = join(TOOLS, 'node_modules', 'verdaccio', 'package.json');
  const have = existsSync(pkgFile) ? (JSON.parse(await readFile(pkgFile, 'utf8')) as { version?: string }).version : undefined;
  if (have === VERDACCIO_VERSION) return have;
  log(`installing verdaccio@${VERDACCIO_VERSION} into bench/.tools/ (npm registry)...`);
  await mkdir(TOOLS, { recursive: true });
  await writeFile(join(TOOLS, '.gitignore'), '*\n');
  const r = await runCommand('npm', ['install', '--prefix', TOOLS, `verdaccio@${VERDACCIO_VERSION}`, '--no-audit', '--no-fund', '--no-save'], { env: cleanNpmEnv(), timeoutMs: 600_000 });
  if (r.code !== 0 || !existsSync(BIN)) throw new Error(`npm install verdaccio@${VERDACCIO_VERSION} failed:\n${r.stderr.slice(-3000)}`);
  return VERDACCIO_VERSION;
}

/** How to start one Verdaccio. */
export interface VerdaccioSpec {
  name: string;
  /** Directory for config, log and storage. */
  dir: string;
  /** The uplink (the fake origin), `http://127.0.0.1:<port>`. */
  uplinkUrl: string;
  /** Uplink `maxage` (how long a fetched packument is used without asking the uplink again), e.g. `10m`. */
  maxage: string;
}

/** A running Verdaccio. */
export interface VerdaccioInstance {
  url: string;
  pid: number;
  storage: string;
  stop(): Promise<void>;
}

/** Writes the config, starts Verdaccio and waits (up to 60 s) until `/-/ping` answers. */
export async function startVerdaccio(spec: VerdaccioSpec): Promise<VerdaccioInstance> {
  const dir = join(spec.dir, spec.name);
  const storage = join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const port = await freePort();
  const config = {
    storage,
    auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: -1 } },
    uplinks: { origin: { url: `${spec.uplinkUrl}/`, maxage: spec.maxage, cache: true, timeout: '60s' } },
    packages: { '@*/*': { access: '$all', proxy: 'origin' }, '**': { access: '$all', proxy: 'origin' } },
    web: { enable: false },
    middlewares: { audit: { enabled: false } },
    server: { keepAliveTimeout: 65 },
    log: { type: 'stdout', format: 'json', level: 'warn' },
  };
  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, stringify(config));
  const logFile = join(dir, 'verdaccio.log');
  const fd = openSync(logFile, 'a');
  const child = track(spawn(process.execPath, [BIN, '--config', configFile, '--listen', `127.0.0.1:${port}`], { env: cleanNpmEnv(), stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn verdaccio');
  let gone = false;
  void exited(child).then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/-/ping`).then((r) => r.ok, () => false);
    if (ok) break;
    if (gone || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`verdaccio ${spec.name} did not start:\n${(await readFile(logFile, 'utf8')).slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, pid, storage, stop: () => stopChild(child) };
}
