/**
 * The real `npm` client for scenario 6: a project directory per server,
 * isolated user and global config (nothing from this machine's npm setup
 * or from `npm run`'s environment), and a fresh `--cache` directory per
 * timed run so npm's own cache never hides the server being measured.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './children.js';
import { cleanNpmEnv } from './verdaccio.js';

/** One finished npm run. */
export interface NpmClientRun {
  ms: number;
  code: number | null;
  stderr: string;
}

/** Writes `package.json` (and optionally a lock file) into a new project directory below `dir`. */
export async function makeNpmProject(dir: string, name: string, manifest: Record<string, unknown>, lock?: string): Promise<string> {
  const project = join(dir, name);
  await rm(project, { recursive: true, force: true });
  await mkdir(project, { recursive: true });
  await writeFile(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (lock !== undefined) await writeFile(join(project, 'package-lock.json'), lock);
  return project;
}

/** The project's lock file as text. */
export function readLock(project: string): Promise<string> {
  return readFile(join(project, 'package-lock.json'), 'utf8');
}

/**
 * Runs `npm <args>` against `registry` (ends with '/') with a fresh cache
 * directory below `work`, removed afterwards. Throws when npm fails.
 */
export async function runNpm(work: string, project: string, registry: string, args: readonly string[]): Promise<NpmClientRun> {
  const conf = await mkdtemp(join(work, 'npm-run-'));
  await writeFile(join(conf, 'user-npmrc'), '');
  await writeFile(join(conf, 'global-npmrc'), '');
  const full = [
    ...args,
    '--registry', registry,
    '--cache', join(conf, 'cache'),
    '--userconfig', join(conf, 'user-npmrc'),
    '--globalconfig', join(conf, 'global-npmrc'),
    '--prefer-online', '--no-audit', '--no-fund', '--no-update-notifier', '--fetch-retries', '0', '--loglevel', 'warn',
  ];
  try {
    const r = await runCommand('npm', full, { cwd: project, env: cleanNpmEnv(), timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error(`npm ${args.join(' ')} against ${registry} failed (${r.code}):\n${r.stderr.slice(-3000)}`);
    return { ms: r.ms, code: r.code, stderr: r.stderr };
  } finally {
    await rm(conf, { recursive: true, force: true });
  }
}

/** Resolved URLs of every package in a lock file. */
export function resolvedUrls(lock: string): string[] {
  const parsed = JSON.parse(lock) as { packages?: Record<string, { resolved?: string }> };
  return Object.entries(parsed.packages ?? {})
    .filter(([k]) => k !== '')
    .map(([, v]) => v.resolved ?? '');
}
