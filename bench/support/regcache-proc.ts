/**
 * Starts regcache the README way (built CLI, `serve --config FILE`) for the
 * benchmark. Unlike test/support/regcache-process.ts it does not keep every
 * log line in the harness's memory: under millions of requests that would
 * cost the harness CPU on the very cores being measured. The log goes to a
 * file instead (like a production deployment's), and startup time is the
 * `time` of the "regcache listening" line minus the spawn time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { exited, stopChild, track } from './children.js';
import { childPids } from './proc.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
let starts = 0;

/**
 * The environment assignments and node flags of `npm start` (package.json),
 * so the benchmark runs the server exactly as the README starts it.
 */
export interface StartCommand {
  env: Record<string, string>;
  flags: string[];
}
let startCommand: Promise<StartCommand> | undefined;
export function startNodeCommand(): Promise<StartCommand> {
  startCommand ??= readStartCommand();
  return startCommand;
}

async function readStartCommand(): Promise<StartCommand> {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const m = /^((?:[A-Z_]+=\S+ )*)node((?: --[\w-]+(?:=\S+)?)*) dist\/src\/cli\/main\.js serve$/.exec(pkg.scripts.start);
  if (!m) throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  const words = (s: string | undefined): string[] => (s ?? '').split(' ').filter((a) => a !== '');
  const env = Object.fromEntries(words(m[1]).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
  return { env, flags: words(m[2]) };
}

/** How to start one instance. */
export interface RegcacheSpec {
  name: string;
  /** Directory for config and log file. */
  dir: string;
  dataDir: string;
  tls: boolean;
  /** Where registry.terraform.io's discovery is fetched from (a fake origin). */
  upstreamUrl: string;
  /** Mode instances (`instances:` of the config) served instead of the terraform block, e.g. an `npm` or `oci` instance. */
  instances?: Array<Record<string, unknown>>;
  /** PEM bundle regcache must trust for upstream TLS (NODE_EXTRA_CA_CERTS); none for a plain-HTTP upstream. */
  caFile?: string;
  /** Extra node flags before the script, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  /** `server.workers` (default 1: one process, no primary). */
  workers?: number;
}

/** A running instance. */
export interface RegcacheInstance {
  name: string;
  url: string;
  /** The process started (with workers: the primary). */
  pid: number;
  /** Every process serving: the one, or the primary and its workers. */
  pids(): number[];
  workers: number;
  caPath: string | undefined;
  dataDir: string;
  logFile: string;
  /** Spawn → "regcache listening" log line, ms. */
  startupMs: number;
  /** `Date.now()` at spawn. */
  spawnedAt: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

interface LogLine {
  msg?: unknown;
  time?: unknown;
  url?: unknown;
  caPath?: unknown;
}

function parseLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a partly written line: read again on the next poll
    }
  }
  return out;
}

/** Spawns regcache and waits (up to 30 s) for its "regcache listening" line. */
export async function startRegcacheInstance(spec: RegcacheSpec): Promise<RegcacheInstance> {
  const config = {
    server: { listen: '127.0.0.1:0', ...(spec.tls ? {} : { tls: false }), shutdownTimeout: '2s', workers: spec.workers ?? 1 },
    storage: { type: 'fs', path: spec.dataDir },
    // The fake origins listen on 127.0.0.1, which the outbound policy refuses unless allowed.
    upstream: { allowAddresses: ['127.0.0.1'] },
    ...(spec.instances
      ? { instances: spec.instances }
      : {
          terraform: {
            upstreams: [{ host: 'registry.terraform.io', url: spec.upstreamUrl }],
            // Keeps "warm" metadata warm for the whole run; the default 10m would refresh mid-benchmark.
            metadata: { ttl: '1h' },
          },
        }),
    log: { level: 'info' },
  };
  const configFile = join(spec.dir, `${spec.name}.yaml`);
  // A new log file per start: an old "listening" line must never be mistaken for this start's.
  const logFile = join(spec.dir, `${spec.name}-${++starts}.log`);
  await writeFile(configFile, stringify(config));
  const fd = openSync(logFile, 'a');
  const start = await startNodeCommand();
  const env: NodeJS.ProcessEnv = { ...process.env, ...start.env, ...(spec.caFile ? { NODE_EXTRA_CA_CERTS: spec.caFile } : {}) };
  delete env.NODE_OPTIONS;
  const spawnedAt = Date.now();
  // BENCH_NODE_ARGS: extra node flags for every instance while investigating (e.g. `--require ./memlog.cjs`).
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = track(spawn(process.execPath, [...start.flags, ...extra, ...(spec.nodeArgs ?? []), CLI, 'serve', '--config', configFile], { env, stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn regcache ${spec.name}`);

  let gone = false;
  void exited(child).then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = parseLines(await readFile(logFile, 'utf8'));
    const listening = lines.find((l) => l.msg === 'regcache listening');
    if (listening && typeof listening.url === 'string' && typeof listening.time === 'number') {
      const tlsLine = lines.find((l) => typeof l.caPath === 'string');
      return {
        name: spec.name,
        url: listening.url,
        pid,
        pids: () => [pid, ...childPids(pid)],
        workers: spec.workers ?? 1,
        caPath: typeof tlsLine?.caPath === 'string' ? tlsLine.caPath : undefined,
        dataDir: spec.dataDir,
        logFile,
        startupMs: listening.time - spawnedAt,
        spawnedAt,
        child,
        stop: () => stopChild(child),
      };
    }
    if (gone || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`regcache ${spec.name} did not start:\n${(await readFile(logFile, 'utf8')).slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
