/**
 * External tools the benchmark needs (nginx, wrk, terraform, openssl-free
 * TLS via our own CA code) and the facts about the machine and versions the
 * report must state so numbers can be compared across runs.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { runCommand } from './children.js';

async function has(cmd: string): Promise<boolean> {
  const r = await runCommand('sh', ['-c', `command -v ${cmd}`]).catch(() => undefined);
  return r?.code === 0;
}

/**
 * Installs nginx and wrk from Debian when missing (the bench machine runs
 * as root); fails with a clear message elsewhere.
 */
export async function ensureTools(): Promise<void> {
  const missing = [];
  for (const cmd of ['nginx', 'wrk']) if (!(await has(cmd))) missing.push(cmd);
  if (missing.length > 0) {
    const root = process.getuid?.() === 0;
    if (!root) throw new Error(`missing ${missing.join(', ')}: install them (apt-get install -y nginx wrk) and re-run`);
    process.stdout.write(`bench: ${missing.join(', ')} missing, installing with apt-get (Debian packages)...\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const up = await runCommand('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
    if (up.code !== 0) throw new Error(`apt-get update failed:\n${up.stderr}`);
    const inst = await runCommand('apt-get', ['install', '-y', '-qq', 'nginx', 'wrk'], { env, timeoutMs: 600_000 });
    if (inst.code !== 0) throw new Error(`apt-get install nginx wrk failed:\n${inst.stderr}`);
  }
  if (!(await has('terraform'))) throw new Error('terraform CLI not on PATH (needed for the static mirror and init scenarios)');
}

/** Machine facts for the report header. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
}

/** Versions of everything measured. */
export interface Versions {
  node: string;
  nginx: string;
  wrk: string;
  terraform: string;
  openssl: string;
}

/** Reads /proc/cpuinfo and os facts. */
export function machineInfo(): MachineInfo {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) model = m[1].trim();
  } catch {
    // keep os.cpus() model
  }
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux
  }
  return { cores: cpus().length, cpuModel: model, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, kernel };
}

async function firstLine(cmd: string, args: string[], pattern: RegExp): Promise<string> {
  const r = await runCommand(cmd, args).catch(() => undefined);
  const m = pattern.exec(`${r?.stdout ?? ''}\n${r?.stderr ?? ''}`);
  return m?.[1]?.trim() ?? 'unknown';
}

/** Asks each tool for its version. */
export async function versions(): Promise<Versions> {
  return {
    node: process.version,
    nginx: await firstLine('nginx', ['-v'], /nginx version: nginx\/(\S+)/),
    wrk: await firstLine('wrk', ['--version'], /^wrk (\S+)/m),
    terraform: await firstLine('terraform', ['version'], /Terraform v(\S+)/),
    openssl: `${process.versions.openssl} (node), ${await firstLine('openssl', ['version'], /OpenSSL (\S+)/)} (system/nginx)`,
  };
}
