/**
 * Every process the benchmark starts is registered here, so an error, a
 * Ctrl-C or a normal end stops exactly those processes (by pid) and nothing
 * is left running on the machine.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { setPriority } from 'node:os';

/**
 * Niceness of the harness and everything it starts. Other work on a shared
 * machine (test suites) then competes less with the servers and wrk being
 * measured; both sides of every comparison get the same priority. Only
 * root may raise priority; elsewhere the default is kept.
 */
export const BENCH_NICENESS = -10;

/** Applies BENCH_NICENESS to `pid` (0 = this process); false when not allowed. */
export function raisePriority(pid = 0): boolean {
  try {
    setPriority(pid, BENCH_NICENESS);
    return true;
  } catch {
    return false;
  }
}

const alive = new Set<ChildProcess>();

/** Registers a child until it exits. */
export function track(child: ChildProcess): ChildProcess {
  alive.add(child);
  if (child.pid !== undefined) raisePriority(child.pid);
  child.once('exit', () => alive.delete(child));
  return child;
}

/** Resolves with the exit code once `child` has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Sends `signal`, then SIGKILL if the child is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

/** Stops every registered child that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...alive].map((c) => stopChild(c, 'SIGTERM', 5_000)));
}

/** Last-resort synchronous kill, for process 'exit'. */
export function killAllNow(): void {
  for (const c of alive) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Output of a finished command. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion (killed after `timeoutMs`), capturing its output. */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<CommandResult> {
  const started = performance.now();
  const child = track(spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const failed = new Promise<never>((_, reject) => child.once('error', reject));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
  try {
    const code = await Promise.race([exited(child), failed]);
    return { code, stdout, stderr, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
