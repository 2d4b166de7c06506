/**
 * Small HTTPS servers on loopback for the reliability tests, each with its
 * own throwaway CA: a "canary" that records every TCP connection and request
 * (regcache must never reach it), and a scriptable upstream registry whose
 * answers can be made larger than regcache's metadata limit, which the fake
 * origin cannot do without publishing thousands of real zips.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCa, issueServerCert } from '../../src/http/self-signed.js';

/** A running HTTPS server. */
export interface TlsServer {
  readonly url: string;
  readonly port: number;
  readonly caPem: string;
  /** TCP connections accepted on any of its sockets (127.0.0.1 and, when possible, ::1). */
  readonly connections: Array<{ remote: string; at: number }>;
  /** Requests seen: method, raw target, Authorization header. */
  readonly requests: Array<{ method: string; target: string; authorization: string | undefined }>;
  stop(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Starts an HTTPS server on 127.0.0.1 (and the same port on ::1 when available). */
export async function startTlsServer(name: string, handler: Handler): Promise<TlsServer> {
  const ca = await generateCa(`regcache reliability ${name} CA`);
  const cert = await issueServerCert(ca, ['127.0.0.1', 'localhost', '::1']);
  const connections: TlsServer['connections'] = [];
  const requests: TlsServer['requests'] = [];
  const sockets = new Set<Socket>();
  const make = (): https.Server => {
    const s = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      requests.push({ method: req.method ?? '', target: req.url ?? '', authorization: req.headers.authorization });
      handler(req, res);
    });
    s.on('connection', (socket: Socket) => {
      connections.push({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`, at: Date.now() });
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    s.on('tlsClientError', () => undefined);
    return s;
  };
  const listen = (s: https.Server, host: string, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, () => {
        s.off('error', reject);
        resolve((s.address() as AddressInfo).port);
      });
    });
  const v4 = make();
  const port = await listen(v4, '127.0.0.1', 0);
  const servers = [v4];
  const v6 = make();
  if (await listen(v6, '::1', port).then(() => true, () => false)) servers.push(v6);
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caPem: ca.certPem,
    connections,
    requests,
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

/** Writes a PEM bundle of `pems` into a fresh temp dir; `remove()` deletes it. */
export async function writeCaBundle(pems: string[]): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-rel-ca-'));
  const file = join(dir, 'bundle.pem');
  await writeFile(file, pems.join('\n'));
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts the canary: any connection or request it records is a failure of the test that started it. */
export function startCanary(): Promise<TlsServer> {
  return startTlsServer('canary', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"canary":true}');
  });
}

/** How the scriptable upstream answers version lists. */
export type VersionsMode = 'small' | 'big' | 'stream';

/** A registry host whose version lists can be made oversized on demand. */
export interface ScriptedUpstream extends TlsServer {
  mode: VersionsMode;
  /** For `stream`: bytes written so far and whether the whole body went out. */
  readonly streamed: { bytes: number; finished: boolean };
}

/** Size of the `big` answer: comfortably above a 64 KiB limit. */
export const BIG_BYTES = 96 * 1024;
/** Size the `stream` answer tries to push (chunked, no Content-Length). */
export const STREAM_BYTES = 32 * 1024 * 1024;
const ANSWER_DELAY_MS = 150;

function providerVersions(count: number): string {
  const versions = Array.from({ length: count }, (_, i) => ({
    version: `1.${Math.floor(i / 100)}.${i % 100}`,
    protocols: ['5.0'],
    platforms: [{ os: 'linux', arch: 'amd64' }],
  }));
  return JSON.stringify({ versions });
}

function moduleVersions(count: number): string {
  return JSON.stringify({ modules: [{ versions: Array.from({ length: count }, (_, i) => ({ version: `1.${Math.floor(i / 100)}.${i % 100}` })) }] });
}

/** Pads a JSON document with whitespace to exactly `size` bytes (still valid JSON). */
function padded(json: string, size: number): Buffer {
  return Buffer.from(json + ' '.repeat(Math.max(0, size - Buffer.byteLength(json))));
}

/** Starts a registry (discovery, provider and module version lists) whose answers switch with `mode`. */
export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const streamed = { bytes: 0, finished: false };
  const state: { mode: VersionsMode } = { mode: 'small' };
  const server = await startTlsServer('scripted upstream', (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const mode = state.mode;
    if (path === '/.well-known/terraform.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"providers.v1":"/v1/providers/","modules.v1":"/v1/modules/"}');
      return;
    }
    const isProvider = path.startsWith('/v1/providers/') && path.endsWith('/versions');
    const isModule = path.startsWith('/v1/modules/') && path.endsWith('/versions');
    if (!isProvider && !isModule) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":["Not Found"]}');
      return;
    }
    const doc = isProvider ? providerVersions : moduleVersions;
    if (mode !== 'small') {
      // A beat before answering, so concurrent requests reliably meet in regcache's single-flight.
      setTimeout(() => (mode === 'big' ? sendBig(res, doc) : streamChunked(res, streamed)), ANSWER_DELAY_MS);
      return;
    }
    const body = Buffer.from(doc(3));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
    res.end(body);
  });
  return {
    ...server,
    streamed,
    get mode() {
      return state.mode;
    },
    set mode(m: VersionsMode) {
      state.mode = m;
    },
  };
}

/** The oversized answer with an honest Content-Length. */
function sendBig(res: ServerResponse, doc: (count: number) => string): void {
  const body = padded(doc(1200), BIG_BYTES);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
  res.end(body);
}

/** Writes STREAM_BYTES of a never-ending JSON array, honouring backpressure, until done or the reader leaves. */
function streamChunked(res: ServerResponse, streamed: { bytes: number; finished: boolean }): void {
  streamed.bytes = 0;
  streamed.finished = false;
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.from(`{"versions":[${'{"version":"0.0.1","protocols":["5.0"],"platforms":[]},'.repeat(1200)}`);
  const pump = (): void => {
    while (streamed.bytes < STREAM_BYTES) {
      if (res.destroyed) return;
      streamed.bytes += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    streamed.finished = true;
    res.end(']}');
  };
  res.on('close', () => res.off('drain', pump));
  pump();
}
