/**
 * A real git server for tests: an HTTP listener on 127.0.0.1 that serves
 * bare repositories over git's smart HTTP protocol by running the stock
 * `git http-backend` CGI per request. Repositories are built with the git
 * binary, so the client side under test talks to genuine git, and the server
 * can be taken down and brought back on the same port to simulate outages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file in a commit: text, or text with the executable bit, or a symlink. */
export type FakeGitFile = string | { content: string; executable: true } | { symlink: string };

/** Where a commit lands: a branch (default `main`) and optionally an annotated tag. */
export interface CommitOptions {
  branch?: string;
  tag?: string;
}

/** One request the host received. */
export interface GitHostRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
}

/** A running fake git host. */
export interface GitHost {
  /** `http://127.0.0.1:port`; repositories live at `${url}/${name}.git`. */
  readonly url: string;
  /** `127.0.0.1:port`. */
  readonly host: string;
  readonly requests: GitHostRequest[];
  /** Creates `name.git` if missing and commits `files` as its whole tree; returns the commit sha. */
  createRepo(name: string, files: Record<string, FakeGitFile>, opts?: CommitOptions): Promise<string>;
  /** Commits `files` as the whole tree on top of the branch (moving it, and the tag if given). */
  commit(name: string, files: Record<string, FakeGitFile>, opts?: CommitOptions): Promise<string>;
  /** Runs git in the bare repository `name.git` (test setup, e.g. config changes). */
  git(name: string, args: string[]): Promise<string>;
  /** Requests whose path contains `pathSubstring`. */
  count(pathSubstring: string): number;
  /** Refuses connections (and drops open ones) until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

const FIXED_DATE = '2024-01-01T00:00:00Z';

/** Host switches. */
export interface GitHostOptions {
  /**
   * Whether to pass the client's `Git-Protocol` header on (default true).
   * With false every client falls back to protocol v0, where fetching an
   * unadvertised commit depends on the uploadpack.allow*SHA1InWant settings.
   */
  protocolV2?: boolean;
}

/** Starts a fake git host with no repositories. */
export async function startGitHost(options: GitHostOptions = {}): Promise<GitHost> {
  const root = await mkdtemp(join(tmpdir(), 'regcache-git-host-'));
  const reposDir = join(root, 'repos');
  const home = join(root, 'home');
  await mkdir(reposDir);
  await mkdir(home);
  const requests: GitHostRequest[] = [];
  const children = new Set<ChildProcess>();
  const sockets = new Set<Socket>();
  let commitCounter = 0;

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
    ...extra,
  });

  const run = (args: string[], cwd: string, extra: Record<string, string> = {}): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn('git', args, { cwd, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`git ${args.join(' ')} failed: ${err}`))));
    });

  const repoDir = (name: string): string => join(reposDir, `${name}.git`);

  async function ensureRepo(name: string): Promise<void> {
    const dir = repoDir(name);
    const exists = await stat(dir).then(() => true, () => false);
    if (exists) return;
    await mkdir(dir, { recursive: true });
    await run(['init', '--quiet', '--bare', '--initial-branch=main'], dir);
    await run(['config', 'uploadpack.allowReachableSHA1InWant', 'true'], dir);
    await run(['config', 'uploadpack.allowAnySHA1InWant', 'true'], dir);
    await run(['config', 'http.receivepack', 'false'], dir);
  }

  async function commit(name: string, files: Record<string, FakeGitFile>, opts: CommitOptions = {}): Promise<string> {
    await ensureRepo(name);
    const gitDir = repoDir(name);
    const branch = opts.branch ?? 'main';
    const work = await mkdtemp(join(root, 'work-'));
    const indexFile = `${work}.index`;
    try {
      for (const [path, file] of Object.entries(files)) {
        const target = join(work, path);
        await mkdir(dirname(target), { recursive: true });
        if (typeof file === 'string') {
          await writeFile(target, file);
        } else if ('symlink' in file) {
          await symlink(file.symlink, target);
        } else {
          await writeFile(target, file.content);
          await chmod(target, 0o755);
        }
      }
      const repoEnv = { GIT_DIR: gitDir, GIT_WORK_TREE: work, GIT_INDEX_FILE: indexFile };
      commitCounter += 1;
      await run(['add', '--all', '.'], work, repoEnv);
      const tree = await run(['write-tree'], work, repoEnv);
      const parent = await run(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], gitDir).catch(() => '');
      const who = {
        GIT_AUTHOR_NAME: 'Fake',
        GIT_AUTHOR_EMAIL: 'fake@example.test',
        GIT_COMMITTER_NAME: 'Fake',
        GIT_COMMITTER_EMAIL: 'fake@example.test',
        GIT_AUTHOR_DATE: FIXED_DATE,
        GIT_COMMITTER_DATE: FIXED_DATE,
      };
      const parentArgs = parent === '' ? [] : ['-p', parent];
      const sha = await run(['commit-tree', tree, ...parentArgs, '-m', `commit ${commitCounter}`], gitDir, who);
      await run(['update-ref', `refs/heads/${branch}`, sha], gitDir);
      if (opts.tag !== undefined) await run(['tag', '--force', '--annotate', '-m', `tag ${opts.tag}`, opts.tag, sha], gitDir, who);
      return sha;
    } finally {
      await rm(work, { recursive: true, force: true });
      await rm(indexFile, { force: true });
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path: target });
    const q = target.indexOf('?');
    let path: string;
    try {
      path = decodeURIComponent(q < 0 ? target : target.slice(0, q));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const cgiEnv: Record<string, string> = {
      GIT_PROJECT_ROOT: reposDir,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: path,
      QUERY_STRING: q < 0 ? '' : target.slice(q + 1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    };
    const length = req.headers['content-length'];
    if (length !== undefined) cgiEnv.CONTENT_LENGTH = length;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined) cgiEnv.HTTP_CONTENT_ENCODING = encoding;
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string' && options.protocolV2 !== false) cgiEnv.HTTP_GIT_PROTOCOL = protocol;

    const child = spawn('git', ['http-backend'], { env: env(cgiEnv), stdio: ['pipe', 'pipe', 'ignore'] });
    children.add(child);
    child.on('close', () => children.delete(child));
    child.on('error', () => res.destroy());
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);
    res.on('close', () => {
      if (!res.writableFinished && child.exitCode === null) child.kill('SIGKILL');
    });

    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      const endLf = head.indexOf('\n\n');
      const split = end >= 0 ? { at: end, len: 4 } : endLf >= 0 ? { at: endLf, len: 2 } : undefined;
      if (split === undefined) return;
      headersDone = true;
      writeCgiHeaders(res, head.subarray(0, split.at).toString('latin1'));
      res.write(head.subarray(split.at + split.len));
    });
    child.stdout.on('end', () => {
      if (!headersDone) res.writeHead(502);
      res.end();
    });
  }

  const server = http.createServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);

  async function down(): Promise<void> {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    createRepo: commit,
    commit,
    git: (name, args) => run(args, repoDir(name)),
    count: (sub) => requests.filter((r) => r.path.includes(sub)).length,
    down,
    async up() {
      if (!server.listening) await listen(port);
    },
    async stop() {
      await down();
      for (const child of children) child.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Copies `Status:` and the other CGI headers onto the response. */
function writeCgiHeaders(res: ServerResponse, text: string): void {
  let status = 200;
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else res.setHeader(name, value);
  }
  res.writeHead(status);
}
