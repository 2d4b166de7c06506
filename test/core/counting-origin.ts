/**
 * A loopback HTTP origin for the cache engine tests: serves documents the
 * test sets (body, ETag, Last-Modified, or an error status), answers
 * conditional requests with 304, and counts what it was asked and sent.
 * Routes built on it reach it over real sockets (node:http).
 */
import { get, createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import type { Validators } from '../../src/core/route.js';

/** What the origin answers for one path. */
export interface OriginDoc {
  body?: Buffer;
  etag?: string;
  lastModified?: string;
  /** Answer this status with an empty body instead (404, 401, 503 …). */
  status?: number;
  /** Send no content-length (chunked). */
  chunked?: boolean;
}

/** A started origin. */
export interface CountingOrigin {
  readonly base: string;
  docs: Map<string, OriginDoc>;
  /** Requests per path. */
  requests(path: string): number;
  /** 304 answers per path. */
  notModified(path: string): number;
  /** Body bytes sent per path. */
  bytesSent(path: string): number;
}

/** Starts an origin on 127.0.0.1 (closed after the test file). */
export async function startCountingOrigin(): Promise<CountingOrigin> {
  const docs = new Map<string, OriginDoc>();
  const reqs = new Map<string, number>();
  const n304 = new Map<string, number>();
  const sent = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, n: number): void => void m.set(k, (m.get(k) ?? 0) + n);
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    add(reqs, path, 1);
    const doc = docs.get(path);
    if (!doc || doc.status !== undefined) {
      res.writeHead(doc?.status ?? 404, { 'content-length': '0' }).end();
      return;
    }
    const validators: Record<string, string> = {
      ...(doc.etag !== undefined ? { etag: doc.etag } : {}),
      ...(doc.lastModified !== undefined ? { 'last-modified': doc.lastModified } : {}),
    };
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    if ((inm !== undefined && inm === doc.etag) || (inm === undefined && ims !== undefined && ims === doc.lastModified)) {
      add(n304, path, 1);
      res.writeHead(304, validators).end();
      return;
    }
    const body = doc.body ?? Buffer.alloc(0);
    add(sent, path, body.length);
    res.writeHead(200, { ...validators, ...(doc.chunked ? {} : { 'content-length': String(body.length) }) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    docs,
    requests: (p) => reqs.get(p) ?? 0,
    notModified: (p) => n304.get(p) ?? 0,
    bytesSent: (p) => sent.get(p) ?? 0,
  };
}

/** GETs `url` (conditionally with `validators`): the response, or a RegcacheError for statuses other than 200/304. */
export function originGet(url: string, signal: AbortSignal, validators?: Validators): Promise<IncomingMessage> {
  const headers: Record<string, string> = {
    ...(validators?.etag !== undefined ? { 'if-none-match': validators.etag } : {}),
    ...(validators?.lastModified !== undefined ? { 'if-modified-since': validators.lastModified } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 200 || status === 304) {
        resolve(res);
        return;
      }
      res.resume();
      if (status === 404) reject(new RegcacheError('ERR_UPSTREAM_NOT_FOUND', 'upstream 404', { upstreamStatus: 404 }));
      else if (status === 401 || status === 403) reject(new RegcacheError('ERR_UPSTREAM_UNAUTHORIZED', `upstream ${status}`, { upstreamStatus: status }));
      else reject(new RegcacheError('ERR_UPSTREAM_STATUS', `upstream ${status}`, { upstreamStatus: status }));
    });
    req.once('error', (err) => reject(new RegcacheError('ERR_UPSTREAM_UNREACHABLE', err.message, { cause: err })));
  });
}

/** The validators a response carries. */
export function validatorsOf(res: IncomingMessage): { etag?: string; lastModified?: string } {
  const etag = res.headers.etag;
  const lastModified = res.headers['last-modified'];
  return { ...(etag !== undefined ? { etag } : {}), ...(lastModified !== undefined ? { lastModified } : {}) };
}

/** Reads a response body whole. */
export async function bodyOf(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
