/**
 * Resolves git module sources to commits and packs a commit as a
 * deterministic `.tar.gz`, so immutable refs can be cached like any other
 * module archive.
 *
 * Everything goes through the `git` binary, spawned with an argument array
 * (never a shell) in a locked-down environment: an empty HOME, no system or
 * global config, no credential helpers, no prompts, only the https transport
 * (plus http when a test allows it), a hard timeout that kills the whole
 * process group, and bounded stderr. URLs with user-info are refused, and
 * git's own messages are scrubbed of URLs before they reach an error.
 *
 * Packing uses `git archive` after a depth-1 fetch of exactly the commit: git
 * archive output is a pure function of the commit (entries in tree order,
 * mtime = commit time, uid/gid 0, 0644/0755 with tar.umask=022, symlinks kept)
 * and gzip adds a fixed header (mtime 0, no name), so the same commit always
 * yields the same bytes.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { RegcacheError } from '../../core/errors.js';
import { safeUrl } from '../../upstream/client.js';
import { isSafeGitRef } from './module-source.js';

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

/** Packing options: `ref` lets servers that refuse fetch-by-sha still serve the commit. */
export interface PackGitOptions extends GitRemoteOptions {
  ref?: string;
}

/** What a ref resolved to; tags and commits are immutable enough to cache, branches and HEAD are not. */
export interface ResolvedRef {
  sha: string;
  kind: 'tag' | 'branch' | 'commit' | 'head';
}

/** Where archive bytes go: a stream (ended on success, destroyed on failure) or an async chunk callback (e.g. PendingObject.append). */
export type ArchiveSink = Writable | ((chunk: Buffer) => Promise<void>);

const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const STDERR_LIMIT = 8 * 1024;
const LS_REMOTE_LIMIT = 1024 * 1024;
/** Neutralizes export-ignore/export-subst so the archive equals a checkout, as go-getter sees it. */
const ATTRIBUTES = '* -export-ignore -export-subst\n';

/**
 * Resolves `ref` (tag, then branch; none means HEAD) on the remote. A full
 * commit id needs no network. Peeled tag ids are preferred so annotated and
 * lightweight tags both yield the commit.
 */
export async function lsRemote(url: string, ref: string | undefined, opts: GitRemoteOptions): Promise<ResolvedRef> {
  const remote = checkRemote(url, opts);
  if (ref !== undefined && SHA_RE.test(ref.toLowerCase())) return { sha: ref.toLowerCase(), kind: 'commit' };
  if (ref !== undefined && !isSafeGitRef(ref)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'unsupported git ref');
  const candidates = refCandidates(ref);
  const patterns = candidates.flatMap((c) => [c.name, `${c.name}^{}`]);
  return withTempDir(opts, async (dir) => {
    const out = await runGit(['ls-remote', '--', remote, ...patterns], { dir, opts, deadline: Date.now() + opts.timeoutMs });
    const refs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [sha, name] = line.split('\t');
      if (sha !== undefined && name !== undefined && SHA_RE.test(sha)) refs.set(name, sha);
    }
    for (const c of candidates) {
      const sha = refs.get(`${c.name}^{}`) ?? refs.get(c.name);
      if (sha !== undefined) return { sha, kind: c.kind };
    }
    throw new RegcacheError('ERR_UPSTREAM_NOT_FOUND', `git ref not found: ${ref ?? 'HEAD'} at ${safeUrl(remote)}`);
  });
}

/**
 * Fetches exactly commit `sha` (depth 1) into a fresh temporary repository
 * and streams a deterministic `.tar.gz` of its tree (no `.git`) into `out`.
 * The temporary directory is removed afterwards, also on failure.
 */
export async function packGitCommit(url: string, sha: string, out: ArchiveSink, opts: PackGitOptions): Promise<void> {
  const remote = checkRemote(url, opts);
  const commit = sha.toLowerCase();
  if (!SHA_RE.test(commit)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'not a git commit id');
  if (opts.ref !== undefined && !isSafeGitRef(opts.ref)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'unsupported git ref');
  try {
    await withTempDir(opts, (dir) => fetchAndArchive(remote, commit, out, opts, dir));
  } catch (err) {
    if (typeof out !== 'function' && !out.destroyed) out.destroy();
    throw err;
  }
}

/** The pack steps inside one temporary directory: init, fetch (by sha, then by ref), archive. */
async function fetchAndArchive(remote: string, commit: string, out: ArchiveSink, opts: PackGitOptions, dir: string): Promise<void> {
  const gitDir = join(dir, 'repo.git');
  const deadline = Date.now() + opts.timeoutMs;
  const run = (args: string[]): Promise<string> => runGit(args, { dir, opts, deadline, gitDir });
  await runGit(['init', '--quiet', '--bare', gitDir], { dir, opts, deadline });
  await mkdir(join(gitDir, 'info'), { recursive: true });
  await writeFile(join(gitDir, 'info', 'attributes'), ATTRIBUTES);
  const fetch = (what: string): Promise<string> => run(['fetch', '--quiet', '--depth=1', '--no-tags', '--no-write-fetch-head', '--', remote, what]);
  try {
    await fetch(commit);
  } catch (err) {
    if (!(err instanceof RegcacheError) || err.code !== 'ERR_UPSTREAM_NOT_FOUND' || opts.ref === undefined) throw err;
    await fetch(opts.ref);
  }
  const present = await run(['rev-parse', '--verify', '--quiet', `${commit}^{commit}`]).catch(() => '');
  if (present !== commit) throw new RegcacheError('ERR_UPSTREAM_NOT_FOUND', `git commit not found at ${safeUrl(remote)}`);
  await streamArchive(gitDir, commit, out, { dir, opts });
}

function checkRemote(url: string, opts: GitRemoteOptions): string {
  if (!URL.canParse(url)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'unparseable git URL');
  const u = new URL(url);
  if (u.username !== '' || u.password !== '') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'git URL with user-info refused');
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && opts.allowHttp === true)) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `git transport not allowed: ${u.protocol}`);
  }
  return u.href;
}

function refCandidates(ref: string | undefined): Array<{ name: string; kind: ResolvedRef['kind'] }> {
  if (ref === undefined) return [{ name: 'HEAD', kind: 'head' }];
  if (ref.startsWith('refs/')) return [{ name: ref, kind: ref.startsWith('refs/tags/') ? 'tag' : 'branch' }];
  return [
    { name: `refs/tags/${ref}`, kind: 'tag' },
    { name: `refs/heads/${ref}`, kind: 'branch' },
  ];
}

async function withTempDir<T>(opts: GitRemoteOptions, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'regcache-git-'));
  try {
    await mkdir(join(dir, 'home'));
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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
  const transports = ['protocol.allow=never', 'protocol.https.allow=always', ...(opts.allowHttp === true ? ['protocol.http.allow=always'] : [])];
  const quiet = ['credential.helper=', 'core.hooksPath=/dev/null', 'core.fsmonitor=false', 'gc.auto=0', 'maintenance.auto=false'];
  const config = [...transports, ...quiet, 'fetch.fsckObjects=true', 'tar.umask=022'];
  return config.flatMap((c) => ['-c', c]);
}

interface RunContext {
  dir: string;
  opts: GitRemoteOptions;
  deadline: number;
  gitDir?: string;
}

/** Runs git to completion and returns its stdout (bounded). */
async function runGit(args: string[], ctx: RunContext): Promise<string> {
  const proc = startGit(args, ctx);
  let out = '';
  let tooLarge = false;
  proc.stdout.on('data', (chunk: Buffer) => {
    if (out.length + chunk.length <= LS_REMOTE_LIMIT) out += chunk.toString('utf8');
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

async function streamArchive(gitDir: string, commit: string, out: ArchiveSink, ctx: Omit<RunContext, 'deadline'>): Promise<void> {
  const proc = startGit(['archive', '--format=tar', commit], { ...ctx, gitDir, deadline: Date.now() + ctx.opts.timeoutMs });
  async function* tar(): AsyncGenerator<Buffer> {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) yield chunk;
    await proc.exited;
  }
  const sink = typeof out === 'function' ? async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) await out(chunk);
  } : out;
  try {
    await pipeline(tar, createGzip(), sink);
  } catch (err) {
    proc.kill();
    await proc.exited.catch(() => undefined);
    throw err;
  }
}

/** A started git process: its stdout, and a promise of a clean exit (mapped errors otherwise). */
function startGit(args: string[], ctx: RunContext): { stdout: Readable; exited: Promise<void>; kill: () => void } {
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
