/**
 * Runs the `git` binary locked down: spawned with an argument array (never
 * a shell) in a fresh environment (an empty HOME, no system or global
 * config, no credential helpers, no prompts), only the https transport
 * (plus http when a test allows it), no redirects (a redirect could lead
 * to a host `git.hosts` does not allow), a hard deadline that kills the
 * whole process group, and bounded stderr and stdout. git's own messages
 * are scrubbed of URLs before they reach an error.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { RegcacheError } from '../../core/errors.js';
import { safeUrl } from '../../upstream/client.js';

/** Bounds for every git operation. */
export interface GitRemoteOptions {
  /**
   * Budget for the network part (ls-remote, or all fetches of one pack), and
   * again for writing the archive; git's process group is killed when it runs out.
   */
  timeoutMs: number;
  /** Allow plain http remotes (tests against a loopback git host only). */
  allowHttp?: boolean;
  /** Kills git and rejects with the signal's reason (server shutdown). */
  signal?: AbortSignal;
  /** Parent of the temporary directories (default: the OS temp dir). */
  tmpDir?: string;
}

const STDERR_LIMIT = 8 * 1024;
const STDOUT_LIMIT = 1024 * 1024;

const PASS_ENV = ['PATH', 'http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'all_proxy', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];

/** A fresh environment: nothing from the caller's git setup leaks in, nothing can prompt. */
function gitEnv(dir: string, gitDir: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASS_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  env.PATH ??= '/usr/bin:/bin';
  Object.assign(env, {
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'home'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    GIT_CEILING_DIRECTORIES: dirname(dir),
    LC_ALL: 'C',
    LANG: 'C',
  });
  if (gitDir !== undefined) env.GIT_DIR = gitDir;
  return env;
}

function gitConfigArgs(opts: GitRemoteOptions): string[] {
  const transports = ['protocol.allow=never', 'protocol.https.allow=always', ...(opts.allowHttp === true ? ['protocol.http.allow=always'] : []), 'http.followRedirects=false'];
  const quiet = ['credential.helper=', 'core.hooksPath=/dev/null', 'core.fsmonitor=false', 'gc.auto=0', 'maintenance.auto=false'];
  const config = [...transports, ...quiet, 'fetch.fsckObjects=true', 'tar.umask=022'];
  return config.flatMap((c) => ['-c', c]);
}

/** Where and how one git process runs. */
export interface RunContext {
  dir: string;
  opts: GitRemoteOptions;
  deadline: number;
  gitDir?: string;
}

/** Runs git to completion and returns its stdout (bounded). */
export async function runGit(args: string[], ctx: RunContext): Promise<string> {
  const proc = startGit(args, ctx);
  let out = '';
  let tooLarge = false;
  proc.stdout.on('data', (chunk: Buffer) => {
    if (out.length + chunk.length <= STDOUT_LIMIT) out += chunk.toString('utf8');
    else if (!tooLarge) {
      tooLarge = true;
      proc.kill();
    }
  });
  await proc.exited.catch((err: unknown) => {
    if (!tooLarge) throw err;
  });
  if (tooLarge) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'git answer too large');
  return out.trim();
}

/** A started git process: its stdout, and a promise of a clean exit (mapped errors otherwise). */
export function startGit(args: string[], ctx: RunContext): { stdout: Readable; exited: Promise<void>; kill: () => void } {
  const { dir, opts } = ctx;
  const child = spawn('git', [...gitConfigArgs(opts), ...args], {
    cwd: dir,
    env: gitEnv(dir, ctx.gitDir),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const kill = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
  };
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_LIMIT);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, Math.max(0, ctx.deadline - Date.now()));
  const onAbort = (): void => kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted === true) kill();
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new RegcacheError('ERR_INTERNAL', 'cannot run git', { cause: err })));
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted === true) reject(abortReason(opts.signal));
      else if (timedOut) reject(new RegcacheError('ERR_UPSTREAM_TIMEOUT', `git ${args[0] ?? ''} timed out`));
      else if (code === 0) resolve();
      else reject(gitError(args[0] ?? 'git', stderr));
    });
  });
  exited.catch(() => undefined);
  return { stdout: child.stdout, exited, kill };
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/** Maps git's (C-locale) complaints to stable codes; the message keeps one scrubbed line. */
function gitError(command: string, stderr: string): RegcacheError {
  const line = scrub(stderr.split('\n').find((l) => /^(fatal|error):/.test(l)) ?? stderr.trim().split('\n').pop() ?? '');
  const message = `git ${command} failed: ${line}`.slice(0, 300);
  const has = (re: RegExp): boolean => re.test(stderr);
  if (has(/timed out|Timeout was reached/i)) return new RegcacheError('ERR_UPSTREAM_TIMEOUT', message);
  if (has(/Could not resolve|Failed to connect|Couldn't connect|Connection refused|Connection reset|Empty reply|SSL|TLS|certificate/i)) {
    return new RegcacheError('ERR_UPSTREAM_UNREACHABLE', message);
  }
  if (has(/Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]/)) {
    return new RegcacheError('ERR_UPSTREAM_UNAUTHORIZED', message);
  }
  if (has(/not found|couldn't find remote ref|unadvertised object|not our ref|no such ref|returned error: 404/i)) {
    return new RegcacheError('ERR_UPSTREAM_NOT_FOUND', message);
  }
  if (has(/returned error: \d{3}/)) return new RegcacheError('ERR_UPSTREAM_STATUS', message);
  return new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', message);
}

/** Replaces every URL in git's text with its credential- and query-free form. */
function scrub(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]*/gi, (u) => safeUrl(u)).trim();
}
