/**
 * Resolves git module sources to commits and packs a commit as a
 * deterministic `.tar.gz`, so immutable refs can be cached like any other
 * module archive.
 *
 * Everything goes through the locked-down `git` binary (git-process.ts).
 * URLs with user-info are refused.
 *
 * Packing uses `git archive` after a depth-1 fetch of exactly the commit: git
 * archive output is a pure function of the commit (entries in tree order,
 * mtime = commit time, uid/gid 0, 0644/0755 with tar.umask=022, symlinks kept)
 * and gzip adds a fixed header (mtime 0, no name), so the same commit always
 * yields the same bytes. The tar stream is what the commit unpacks to, so it
 * is held to the inflate limits: in total, and in ratio to the bytes the
 * fetch stored (a tree can name one blob a million times).
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { RegcacheError } from '../../core/errors.js';
import { FailureMemo } from '../../core/failure-memo.js';
import { DEFAULT_INFLATE_LIMITS, InflateBudget, type InflateLimits } from '../../core/inflate-limits.js';
import { Semaphore } from '../../core/semaphore.js';
import { safeUrl } from '../../upstream/client.js';
import { runGit, startGit, type GitRemoteOptions, type RunContext } from './git-process.js';
import { isSafeGitRef } from './module-source.js';

export type { GitRemoteOptions } from './git-process.js';

/** Packing options: `ref` lets servers that refuse fetch-by-sha still serve the commit. */
export interface PackGitOptions extends GitRemoteOptions {
  ref?: string;
  /** Bounds on the tar stream (default: DEFAULT_INFLATE_LIMITS). */
  limits?: Readonly<InflateLimits>;
}

/** What a ref resolved to; tags and commits are immutable enough to cache, branches and HEAD are not. */
export interface ResolvedRef {
  sha: string;
  kind: 'tag' | 'branch' | 'commit' | 'head';
}

/** Where archive bytes go: a stream (ended on success, destroyed on failure) or an async chunk callback (e.g. PendingObject.append). */
export type ArchiveSink = Writable | ((chunk: Buffer) => Promise<void>);

const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Whether `ref` is a full commit id (resolving it needs no network). */
export function isCommitId(ref: string | undefined): boolean {
  return ref !== undefined && SHA_RE.test(ref.toLowerCase());
}
/** Neutralizes export-ignore/export-subst so the archive equals a checkout, as go-getter sees it. */
const ATTRIBUTES = '* -export-ignore -export-subst\n';

/**
 * Resolves `ref` (tag, then branch; none means HEAD) on the remote. A full
 * commit id needs no network. Peeled tag ids are preferred so annotated and
 * lightweight tags both yield the commit.
 */
export async function lsRemote(url: string, ref: string | undefined, opts: GitRemoteOptions): Promise<ResolvedRef> {
  const remote = checkRemote(url, opts);
  if (ref !== undefined && isCommitId(ref)) return { sha: ref.toLowerCase(), kind: 'commit' };
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

/** Bytes under `dir` (the fetched objects: what the archive is inflated from). */
async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
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

async function streamArchive(gitDir: string, commit: string, out: ArchiveSink, ctx: Omit<RunContext, 'deadline' | 'opts'> & { opts: PackGitOptions }): Promise<void> {
  const fetched = await dirBytes(join(gitDir, 'objects'));
  const budget = new InflateBudget(ctx.opts.limits ?? DEFAULT_INFLATE_LIMITS, ctx.opts.signal);
  const proc = startGit(['archive', '--format=tar', commit], { ...ctx, gitDir, deadline: Date.now() + ctx.opts.timeoutMs });
  async function* tar(): AsyncGenerator<Buffer> {
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      budget.take(chunk.length);
      budget.checkRatio(fetched, budget.inflated, 'git archive');
      yield chunk;
    }
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


/** Settings of one instance's git access. */
export interface GitRemoteSettings {
  timeoutMs: number;
  allowHttp: boolean;
  /** git processes running at once; operations beyond wait in line (within their timeout). */
  maxProcesses: number;
  /** How long a failed ls-remote or pack is answered from memory. */
  failureTtlMs: number;
  limits: Readonly<InflateLimits>;
  tmpDir?: string;
}

/** One instance's git access: a bounded number of git processes at once, and recent failures remembered. */
export interface GitRemote {
  lsRemote(url: string, ref: string | undefined, signal?: AbortSignal): Promise<ResolvedRef>;
  pack(url: string, sha: string, out: ArchiveSink, opts?: { ref?: string; signal?: AbortSignal }): Promise<void>;
}

/**
 * Creates the git access of one instance. Each operation (an ls-remote, or
 * a whole pack: init, fetch, archive, one process at a time) holds one of
 * `maxProcesses` slots; waiting counts against its timeout. A failure is
 * remembered for `failureTtlMs`, so a storm of requests for a missing ref
 * or an unreachable repository runs git once; shutdown, and giving up in
 * line, are not remembered.
 */
export function createGitRemote(settings: GitRemoteSettings): GitRemote {
  const slots = new Semaphore(settings.maxProcesses);
  const failures = new FailureMemo(settings.failureTtlMs);
  const base = { timeoutMs: settings.timeoutMs, allowHttp: settings.allowHttp, ...(settings.tmpDir === undefined ? {} : { tmpDir: settings.tmpDir }) };

  async function limited<T>(key: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const earlier = failures.get(key);
    if (earlier !== undefined) throw earlier;
    const release = await slots.acquire({ waitMs: settings.timeoutMs, what: 'git processes', ...(signal ? { signal } : {}) });
    try {
      return await work();
    } catch (err) {
      if (err instanceof RegcacheError && err.code !== 'ERR_SHUTTING_DOWN' && signal?.aborted !== true) failures.set(key, err);
      throw err;
    } finally {
      release();
    }
  }

  return {
    lsRemote(url, ref, signal) {
      const opts = { ...base, ...(signal ? { signal } : {}) };
      if (isCommitId(ref)) return lsRemote(url, ref, opts);
      return limited(`ls-remote ${url}#${ref ?? ''}`, signal, () => lsRemote(url, ref, opts));
    },
    pack(url, sha, out, opts = {}) {
      const packOpts: PackGitOptions = { ...base, limits: settings.limits, ...opts };
      return limited(`pack ${url}@${sha}`, opts.signal, () => packGitCommit(url, sha, out, packOpts)).catch((err: unknown) => {
        // A remembered failure never reached packGitCommit, which ends a stream sink itself.
        if (typeof out !== 'function' && !out.destroyed) out.destroy();
        throw err;
      });
    },
  };
}
