/**
 * A real loopback HTTP(S) origin serving a static file tree for the `file`
 * mode's tests: generated files put and replaced at run time (new ETag and
 * Last-Modified each time), ETag / If-None-Match and Last-Modified /
 * If-Modified-Since answered 304, HEAD, single Range, optional digest
 * headers, a log of every request (counts per path and method), and faults
 * switched on and off while requests are in flight: down (connection
 * refused), any status, no answer, slow, held mid-body until released,
 * truncated, wrong bytes.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { originCertificate, startOriginListener } from './origin-listener.js';

/** Which digest header a file is served with. */
export type DigestHeader = 'none' | 'repr-digest' | 'content-digest' | 'digest' | 'x-checksum-sha256' | 'repr-digest-sha512';

/** How a file is served. */
export interface FileOptions {
  digest?: DigestHeader;
  /** Send an ETag (default true). */
  etag?: boolean;
  /** Send Last-Modified (default true). */
  lastModified?: boolean;
  /** Send Content-Length (default true; false = chunked). */
  contentLength?: boolean;
}

/** A fault for the paths it matches. */
export type FileFault =
  | { kind: 'status'; status: number }
  /** No answer at all (not even headers) until the fault is cleared. */
  | { kind: 'stall' }
  /** Body at this many bytes per second. */
  | { kind: 'slow'; bytesPerSecond: number }
  /** Headers and the first `after` bytes, then nothing until the fault is cleared (or `release`d). */
  | { kind: 'hold'; after: number }
  /** Full Content-Length announced, `after` bytes sent, connection destroyed. */
  | { kind: 'truncate'; after: number }
  /** Same length and headers (digest of the right bytes), one byte changed. */
  | { kind: 'corrupt' };

/** One request as the origin saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
}

/** The running origin. */
export interface FileOrigin {
  readonly url: string;
  /** PEM file of the CA that signed the HTTPS certificate (NODE_EXTRA_CA_CERTS), when TLS. */
  readonly caFile: string | undefined;
  readonly requests: readonly SeenRequest[];
  /** Serves `body` at `path` (replacing what was there: new ETag and Last-Modified). */
  put(path: string, body: Buffer, opts?: FileOptions): void;
  remove(path: string): void;
  /** Requests for `path` (exact), by method (default GET). */
  count(path: string, method?: string): number;
  /** Conditional GETs of `path` and how many were answered 304. */
  conditional(path: string): { asked: number; notModified: number };
  /** Installs (or with undefined clears) a fault for paths starting with `prefix`; clearing releases held bodies. */
  fault(prefix: string, fault: FileFault | undefined): void;
  /** Resolves once a request for `path` is being answered (headers sent) at least `n` times. */
  seen(path: string, n?: number): Promise<void>;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Served {
  body: Buffer;
  opts: FileOptions;
  etag: string;
  modified: Date;
}

const sha = (alg: 'sha256' | 'sha512', b: Buffer): Buffer => createHash(alg).update(b).digest();

function digestHeaders(kind: DigestHeader, body: Buffer): Record<string, string> {
  switch (kind) {
    case 'repr-digest':
      return { 'repr-digest': `sha-256=:${sha('sha256', body).toString('base64')}:` };
    case 'repr-digest-sha512':
      return { 'repr-digest': `sha-512=:${sha('sha512', body).toString('base64')}:` };
    case 'content-digest':
      return { 'content-digest': `sha-256=:${sha('sha256', body).toString('base64')}:` };
    case 'digest':
      return { digest: `SHA-256=${sha('sha256', body).toString('base64')}` };
    case 'x-checksum-sha256':
      return { 'x-checksum-sha256': sha('sha256', body).toString('hex') };
    case 'none':
      return {};
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the origin on a random port of 127.0.0.1 (HTTPS with a fresh CA when `tls`). */
export async function startFileOrigin(opts: { tls?: boolean } = {}): Promise<FileOrigin> {
  const files = new Map<string, Served>();
  const faults = new Map<string, { fault: FileFault; release: () => void; released: Promise<void> }>();
  const requests: SeenRequest[] = [];
  const waiters: Array<() => void> = [];
  let version = 0;
  let lastModified = 0;

  const faultFor = (path: string) => [...faults].find(([prefix]) => path.startsWith(prefix))?.[1];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const seen: SeenRequest = { method: req.method ?? '', path, headers: req.headers, status: 0 };
    requests.push(seen);
    const send = (status: number, headers: Record<string, string>, body?: Buffer): void => {
      seen.status = status;
      res.writeHead(status, headers);
      for (const w of waiters.splice(0)) w();
      if (body && req.method !== 'HEAD') res.end(body);
      else res.end();
    };
    const f = faultFor(path);
    if (f?.fault.kind === 'stall') {
      await f.released;
      res.destroy();
      return;
    }
    if (f?.fault.kind === 'status') return send(f.fault.status, { 'content-type': 'text/plain' }, Buffer.from(`injected ${f.fault.status}\n`));
    const file = files.get(path);
    if (!file) return send(404, { 'content-type': 'text/plain' }, Buffer.from('not found\n'));
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', ...digestHeaders(file.opts.digest ?? 'none', file.body) };
    if (file.opts.etag !== false) headers.etag = file.etag;
    if (file.opts.lastModified !== false) headers['last-modified'] = file.modified.toUTCString();
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    if (inm !== undefined ? file.opts.etag !== false && inm === file.etag : ims !== undefined && file.opts.lastModified !== false && Date.parse(ims) >= file.modified.getTime()) {
      return send(304, headers);
    }
    let body = file.body;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range && (range[1] !== '' || range[2] !== '')) {
      const start = range[1] === '' ? Math.max(0, body.length - Number(range[2])) : Number(range[1]);
      const end = range[1] === '' || range[2] === '' ? body.length - 1 : Math.min(Number(range[2]), body.length - 1);
      if (start > end || start >= body.length) return send(416, { 'content-range': `bytes */${body.length}` });
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
      body = body.subarray(start, end + 1);
    }
    if (file.opts.contentLength !== false) headers['content-length'] = String(body.length);
    if (req.method === 'HEAD' || !f) return send(status, headers, body);
    seen.status = status;
    res.writeHead(status, headers);
    for (const w of waiters.splice(0)) w();
    await faulty(res, body, f);
  }

  async function faulty(res: ServerResponse, body: Buffer, f: { fault: FileFault; released: Promise<void> }): Promise<void> {
    const fault = f.fault;
    if (fault.kind === 'corrupt') {
      const bad = Buffer.from(body);
      bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
      res.end(bad);
    } else if (fault.kind === 'truncate' || fault.kind === 'hold') {
      if (fault.kind === 'truncate') {
        res.write(body.subarray(0, fault.after), () => res.destroy());
        return;
      }
      res.write(body.subarray(0, fault.after));
      await f.released;
      res.end(body.subarray(fault.after));
    } else if (fault.kind === 'slow') {
      const step = Math.max(1, Math.floor(fault.bytesPerSecond / 20));
      for (let off = 0; off < body.length && !res.destroyed; off += step) {
        res.write(body.subarray(off, off + step));
        await sleep(50);
      }
      res.end();
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const cert = opts.tls ? await originCertificate('regcache file-origin CA') : undefined;
  const origin = await startOriginListener(cert?.tls, listener);
  const caFile = cert?.caFile;
  const down = (): Promise<void> => origin.down();

  return {
    url: origin.url,
    caFile,
    requests,
    put(path, body, o = {}) {
      version++;
      // Last-Modified has second precision: each version is at least a second later than the one before.
      lastModified = Math.max(Math.floor(Date.now() / 1000) * 1000, lastModified + 1000);
      files.set(path, { body, opts: o, etag: `"v${version}-${sha('sha256', body).toString('hex').slice(0, 12)}"`, modified: new Date(lastModified) });
    },
    remove: (path) => void files.delete(path),
    count: (path, method = 'GET') => requests.filter((r) => r.path === path && r.method === method).length,
    conditional(path) {
      const asked = requests.filter((r) => r.path === path && (r.headers['if-none-match'] !== undefined || r.headers['if-modified-since'] !== undefined));
      return { asked: asked.length, notModified: asked.filter((r) => r.status === 304).length };
    },
    fault(prefix, fault) {
      faults.get(prefix)?.release();
      faults.delete(prefix);
      if (!fault) return;
      let release = (): void => undefined;
      const released = new Promise<void>((r) => {
        release = r;
      });
      faults.set(prefix, { fault, release, released });
    },
    async seen(path, n = 1) {
      while (requests.filter((r) => r.path === path && r.status !== 0).length < n) await new Promise<void>((r) => waiters.push(r));
    },
    down,
    up: () => origin.up(),
    async close() {
      for (const f of faults.values()) f.release();
      await down();
    },
  };
}
