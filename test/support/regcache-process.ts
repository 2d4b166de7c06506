/**
 * Starts regcache the README way (the built CLI, `serve --config FILE`) as a
 * child process on a loopback port, and captures its JSON log lines so tests
 * can assert on them (and scan them for secrets).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A running regcache child process. */
export interface RegcacheProcess {
  url: string;
  caPath: string | undefined;
  dataDir: string;
  configFile: string;
  /** Parsed JSON log lines so far. */
  logs: Array<Record<string, unknown>>;
  /** Raw stdout+stderr text so far. */
  output(): string;
  child: ChildProcess;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts regcache with `config` (YAML-serialized); storage.path defaults to a fresh temp dir. */
export async function startRegcache(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<RegcacheProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-e2e-'));
  const storage = (config.storage as Record<string, unknown> | undefined) ?? {};
  const dataDir = (storage.path as string | undefined) ?? join(dir, 'data');
  const full = {
    ...config,
    server: { listen: '127.0.0.1:0', ...(config.server as object | undefined) },
    storage: { ...storage, path: dataDir },
    // The fakes listen on 127.0.0.1, which the outbound policy refuses unless allowed.
    upstream: { allowAddresses: ['127.0.0.1'], ...(config.upstream as object | undefined) },
    log: { level: 'info', ...(config.log as object | undefined) },
  };
  const configFile = join(dir, 'regcache.yaml');
  await writeFile(configFile, stringify(full));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const logs: Array<Record<string, unknown>> = [];
  let pendingLine = '';
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    pendingLine += chunk.toString();
    const lines = pendingLine.split('\n');
    pendingLine = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // non-JSON output (e.g. a crash trace) stays in `text`
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setInterval(() => {
      const line = logs.find((l) => l.msg === 'regcache listening');
      if (line) {
        clearInterval(timer);
        resolve(line);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`regcache exited (${code}) before listening:\n${text}`));
    });
  });
  const tlsLine = logs.find((l) => typeof l.caPath === 'string');
  return {
    url: started.url as string,
    caPath: tlsLine?.caPath as string | undefined,
    dataDir,
    configFile,
    logs,
    output: () => text,
    child,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
