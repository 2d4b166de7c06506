/**
 * Runs the built `regcache` CLI as a child process, the way operators and
 * CI run it, and collects its output and exit code. Also starts the setup
 * the CLI tests share: a fake origin and a regcache with the admin API on.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startOriginRegistry, type OriginProviderSpec, type OriginRegistry } from '../fakes/origin-registry.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** The admin token the CLI tests configure. */
export const TOKEN = 'x'.repeat(20);

/** One CLI run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `regcache ...args` with the parent's environment plus `env`; never rejects on a non-zero exit. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, REGCACHE_SERVER: '', REGCACHE_ADMIN_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

/** `regcache validate --config <file>`: its exit code and everything it printed. */
export async function validateConfig(file: string): Promise<{ code: number | null; out: string }> {
  const r = await runCli(['validate', '--config', file]);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Everything a run printed, for failure messages. */
export const printed = (r: CliRun): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

/** A fake origin publishing `providers` and a regcache (admin token TOKEN) in front of it. */
export async function startCliSetup(
  providers: OriginProviderSpec[],
  config: Record<string, unknown> = {},
): Promise<{ origin: OriginRegistry; regcache: RegcacheProcess; stop: () => Promise<void> }> {
  const origin = await startOriginRegistry();
  for (const p of providers) await origin.addProvider(p);
  const regcache = await startRegcache(
    { ...config, admin: { token: TOKEN }, terraform: { upstreams: [{ host: 'registry.terraform.io', url: origin.url }] } },
    { NODE_EXTRA_CA_CERTS: origin.caFile },
  );
  return {
    origin,
    regcache,
    stop: async () => {
      await regcache.stop();
      await origin.stop();
    },
  };
}
