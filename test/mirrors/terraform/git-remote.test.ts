import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { RegcacheError, type ErrorCode } from '../../../src/core/errors.js';
import { DEFAULT_INFLATE_LIMITS } from '../../../src/core/inflate-limits.js';
import { createGitRemote, lsRemote, packGitCommit, type GitRemoteOptions, type PackGitOptions } from '../../../src/mirrors/terraform/git-remote.js';
import { startGitHost, type FakeGitFile, type GitHost } from '../../fakes/git-host.js';

const LONG_PATH = `modules/${'nested-directory-name/'.repeat(5)}variables.tf`;
const V1_FILES: Record<string, FakeGitFile> = {
  'main.tf': 'output "v" { value = "1" }\n',
  'modules/net/main.tf': 'variable "cidr" {}\n',
  [LONG_PATH]: 'variable "long" {}\n',
  'bin/run.sh': { content: '#!/bin/sh\necho hi\n', executable: true },
  'current.tf': { symlink: 'main.tf' },
  '.gitattributes': 'main.tf export-ignore\n',
};

interface TarItem {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname: string;
  body: string;
}

/** Reads a ustar/pax archive (as git archive writes it) into entries. */
function readTarGz(bytes: Buffer): TarItem[] {
  const tar = gunzipSync(bytes);
  const items: TarItem[] = [];
  let paxPath: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (at: number, len: number): string => header.subarray(at, at + len).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const body = tar.subarray(off + 512, off + 512 + size).toString('utf8');
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'g') continue;
    if (type === 'x') {
      paxPath = /\d+ path=(.*)\n/.exec(body)?.[1];
      continue;
    }
    const prefix = field(345, 155);
    const name = paxPath ?? (prefix === '' ? field(0, 100) : `${prefix}/${field(0, 100)}`);
    paxPath = undefined;
    const octal = (at: number, len: number): number => Number.parseInt(field(at, len).trim(), 8);
    items.push({ name, type, mode: octal(100, 8), uid: octal(108, 8), gid: octal(116, 8), linkname: field(157, 100), body });
  }
  return items;
}

async function packToBuffer(url: string, sha: string, opts: PackGitOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await packGitCommit(url, sha, (chunk) => {
    chunks.push(chunk);
    return Promise.resolve();
  }, opts);
  return Buffer.concat(chunks);
}

function hasCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => err instanceof RegcacheError && err.code === code;
}

void describe('git remote (against a real git http-backend)', () => {
  let host: GitHost;
  let tmp: string;
  let opts: GitRemoteOptions;
  let url: string;
  let v1: string;
  let v2: string;

  before(async () => {
    host = await startGitHost();
    tmp = await mkdtemp(join(tmpdir(), 'regcache-git-remote-test-'));
    opts = { timeoutMs: 30_000, allowHttp: true, tmpDir: tmp };
    url = `${host.url}/org/mod.git`;
    v1 = await host.createRepo('org/mod', V1_FILES, { tag: 'v1.0.0' });
    v2 = await host.commit('org/mod', { 'main.tf': 'output "v" { value = "2" }\n' });
  });

  after(async () => {
    await host.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  void it('resolves an annotated tag to its commit, a branch, and HEAD', async () => {
    assert.deepEqual(await lsRemote(url, 'v1.0.0', opts), { sha: v1, kind: 'tag' });
    assert.deepEqual(await lsRemote(url, 'refs/tags/v1.0.0', opts), { sha: v1, kind: 'tag' });
    assert.deepEqual(await lsRemote(url, 'main', opts), { sha: v2, kind: 'branch' });
    assert.deepEqual(await lsRemote(url, undefined, opts), { sha: v2, kind: 'head' });
  });

  void it('takes a full commit id as is, without contacting the host', async () => {
    const before = host.requests.length;
    assert.deepEqual(await lsRemote(url, v1.toUpperCase(), opts), { sha: v1, kind: 'commit' });
    assert.equal(host.requests.length, before);
  });

  void it('answers not found for a missing ref or repository', async () => {
    await assert.rejects(lsRemote(url, 'v9.9.9', opts), hasCode('ERR_UPSTREAM_NOT_FOUND'));
    await assert.rejects(lsRemote(`${host.url}/org/missing.git`, 'v1.0.0', opts), hasCode('ERR_UPSTREAM_NOT_FOUND'));
  });

  void it('follows a branch that moved', async () => {
    const first = await host.commit('org/mod', { 'main.tf': 'dev 1\n' }, { branch: 'dev' });
    assert.deepEqual(await lsRemote(url, 'dev', opts), { sha: first, kind: 'branch' });
    const second = await host.commit('org/mod', { 'main.tf': 'dev 2\n' }, { branch: 'dev' });
    assert.notEqual(second, first);
    assert.deepEqual(await lsRemote(url, 'dev', opts), { sha: second, kind: 'branch' });
  });

  void it('packs a commit as a tar.gz of its tree without .git', async () => {
    const items = readTarGz(await packToBuffer(url, v1, opts));
    const byName = new Map(items.map((item) => [item.name, item]));
    assert.equal(items.some((item) => item.name === '.git' || item.name.startsWith('.git/')), false);
    assert.equal(byName.get('main.tf')?.body, V1_FILES['main.tf'], 'export-ignore must not drop files');
    assert.equal(byName.get('modules/net/main.tf')?.body, V1_FILES['modules/net/main.tf']);
    assert.equal(byName.get(LONG_PATH)?.body, V1_FILES[LONG_PATH]);
    assert.deepEqual(
      { type: byName.get('bin/run.sh')?.type, mode: byName.get('bin/run.sh')?.mode },
      { type: '0', mode: 0o755 },
    );
    assert.equal(byName.get('main.tf')?.mode, 0o644);
    assert.deepEqual({ type: byName.get('current.tf')?.type, linkname: byName.get('current.tf')?.linkname }, { type: '2', linkname: 'main.tf' });
    assert.equal(byName.get('modules/')?.type, '5');
    assert.ok(items.every((item) => item.uid === 0 && item.gid === 0));
  });

  void it('packs the same commit to byte-identical archives, into a stream or a callback', async () => {
    const first = await packToBuffer(url, v1, opts);
    const file = join(tmp, 'pack.tar.gz');
    await packGitCommit(url, v1, createWriteStream(file), { ...opts, ref: 'v1.0.0' });
    assert.deepEqual(await readFile(file), first);
    await rm(file);
  });

  void it('fails with not found for an unknown commit, leaving no temp dirs behind', async () => {
    const out = createWriteStream(join(tmp, 'never.tar.gz'));
    await assert.rejects(packGitCommit(url, 'b'.repeat(40), out, opts), hasCode('ERR_UPSTREAM_NOT_FOUND'));
    assert.equal(out.destroyed, true);
    await rm(join(tmp, 'never.tar.gz'), { force: true });
    assert.deepEqual(await readdir(tmp), []);
  });

  void it('refuses plain http unless allowed, and URLs with credentials', async () => {
    const before = host.requests.length;
    await assert.rejects(lsRemote(url, 'main', { timeoutMs: 30_000, tmpDir: tmp }), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
    const withUser = url.replace('http://', 'http://user:secret@');
    await assert.rejects(lsRemote(withUser, 'main', opts), (err: unknown) => hasCode('ERR_UPSTREAM_BAD_RESPONSE')(err) && !String(err).includes('secret'));
    await assert.rejects(packToBuffer(withUser, v1, opts), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
    assert.equal(host.requests.length, before);
  });

  void it('reports an unreachable host, and recovers when it is back', async () => {
    await host.down();
    try {
      await assert.rejects(lsRemote(url, 'v1.0.0', opts), hasCode('ERR_UPSTREAM_UNREACHABLE'));
      await assert.rejects(packToBuffer(url, v1, opts), hasCode('ERR_UPSTREAM_UNREACHABLE'));
    } finally {
      await host.up();
    }
    assert.deepEqual(await lsRemote(url, 'v1.0.0', opts), { sha: v1, kind: 'tag' });
    assert.deepEqual(await readdir(tmp), []);
  });

  void it('kills git and reports a timeout when the host never answers, or rejects when aborted', async () => {
    const sockets = new Set<Socket>();
    const aborter = new AbortController();
    let abortOnConnect = false;
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      if (abortOnConnect) aborter.abort(new Error('shutting down'));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      const silentUrl = `http://127.0.0.1:${address.port}/org/mod.git`;
      await assert.rejects(lsRemote(silentUrl, 'main', { ...opts, timeoutMs: 300 }), hasCode('ERR_UPSTREAM_TIMEOUT'));
      await assert.rejects(packToBuffer(silentUrl, v1, { ...opts, timeoutMs: 300 }), hasCode('ERR_UPSTREAM_TIMEOUT'));
      abortOnConnect = true;
      await assert.rejects(lsRemote(silentUrl, 'main', { ...opts, signal: aborter.signal }), { message: 'shutting down' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    assert.deepEqual(await readdir(tmp), []);
  });
});

void describe('git remote: hostile hosts and repositories', () => {
  let host: GitHost;
  let tmp: string;
  let opts: GitRemoteOptions;
  let redirector: http.Server;
  let redirectorUrl = '';
  let v1 = '';
  let zeros = '';

  before(async () => {
    host = await startGitHost();
    tmp = await mkdtemp(join(tmpdir(), 'regcache-git-hostile-'));
    opts = { timeoutMs: 30_000, allowHttp: true, tmpDir: tmp };
    v1 = await host.createRepo('org/mod', V1_FILES, { tag: 'v1.0.0' });
    // 32 names for one 256 KiB blob: 8 MiB of tar from a few KiB of objects.
    const same = '0'.repeat(256 * 1024);
    zeros = await host.createRepo('org/zeros', Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`f${i}.txt`, same])), { tag: 'v1.0.0' });
    // An allowed host that sends git elsewhere.
    redirector = http.createServer((req, res) => res.writeHead(302, { location: `${host.url}${req.url ?? '/'}` }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => redirector.close(() => resolve()));
    await host.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  void it('does not follow a redirect to another host', async () => {
    const before = host.requests.length;
    await assert.rejects(lsRemote(`${redirectorUrl}/org/mod.git`, 'v1.0.0', opts), (err: unknown) => err instanceof RegcacheError);
    await assert.rejects(packToBuffer(`${redirectorUrl}/org/mod.git`, v1, opts), (err: unknown) => err instanceof RegcacheError);
    assert.equal(host.requests.length, before, 'the other host was never contacted');
    assert.deepEqual(await readdir(tmp), []);
  });

  void it('refuses an archive whose tree inflates far beyond what was fetched', async () => {
    await assert.rejects(packToBuffer(`${host.url}/org/zeros.git`, zeros, opts), (err: unknown) => hasCode('ERR_UPSTREAM_BAD_RESPONSE')(err) && /git archive compression ratio/.test(String(err)));
    const total = { ...DEFAULT_INFLATE_LIMITS, maxRatio: 1e9, maxInflatedBytes: 1024 * 1024 };
    await assert.rejects(packToBuffer(`${host.url}/org/zeros.git`, zeros, { ...opts, limits: total }), (err: unknown) => hasCode('ERR_UPSTREAM_BAD_RESPONSE')(err) && /more than 1 MiB/.test(String(err)));
    const roomy = { ...DEFAULT_INFLATE_LIMITS, maxRatio: 1e9 };
    assert.ok((await packToBuffer(`${host.url}/org/zeros.git`, zeros, { ...opts, limits: roomy })).length > 0, 'within the limits it packs');
    assert.deepEqual(await readdir(tmp), []);
  });

  void it('remembers a failed lookup for a while instead of running git again', async () => {
    const remote = createGitRemote({ timeoutMs: 30_000, allowHttp: true, maxProcesses: 2, failureTtlMs: 60_000, limits: DEFAULT_INFLATE_LIMITS, tmpDir: tmp });
    const url = `${host.url}/org/mod.git`;
    const before = host.count('info/refs');
    await assert.rejects(remote.lsRemote(url, 'v9.9.9'), hasCode('ERR_UPSTREAM_NOT_FOUND'));
    const asked = host.count('info/refs') - before;
    await assert.rejects(remote.lsRemote(url, 'v9.9.9'), (err: unknown) => hasCode('ERR_UPSTREAM_NOT_FOUND')(err) && /earlier/.test(String(err)));
    assert.equal(host.count('info/refs') - before, asked);
    assert.deepEqual(await remote.lsRemote(url, 'v1.0.0'), { sha: v1, kind: 'tag' }, 'other refs still resolve');
  });
});

void describe('git remote against a protocol v0 host that refuses unadvertised commits', () => {
  let host: GitHost;
  let tmp: string;

  before(async () => {
    host = await startGitHost({ protocolV2: false });
    tmp = await mkdtemp(join(tmpdir(), 'regcache-git-remote-v0-'));
  });

  after(async () => {
    await host.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  void it('falls back to fetching the ref when fetching the commit id is refused', async () => {
    const opts = { timeoutMs: 30_000, allowHttp: true, tmpDir: tmp };
    const url = `${host.url}/org/mod.git`;
    const v1 = await host.createRepo('org/mod', V1_FILES, { tag: 'v1.0.0' });
    await host.commit('org/mod', { 'main.tf': 'later\n' });
    await host.git('org/mod', ['config', 'uploadpack.allowReachableSHA1InWant', 'false']);
    await host.git('org/mod', ['config', 'uploadpack.allowAnySHA1InWant', 'false']);

    await assert.rejects(packToBuffer(url, v1, opts), hasCode('ERR_UPSTREAM_NOT_FOUND'));
    const items = readTarGz(await packToBuffer(url, v1, { ...opts, ref: 'v1.0.0' }));
    assert.equal(items.find((item) => item.name === 'main.tf')?.body, V1_FILES['main.tf']);
    await assert.rejects(packToBuffer(url, v1, { ...opts, ref: 'main' }), hasCode('ERR_UPSTREAM_NOT_FOUND'));
    assert.deepEqual(await readdir(tmp), []);
  });
});
