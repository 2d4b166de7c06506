/**
 * Scenario 7's upstream: a plain OCI Distribution origin on loopback that
 * serves `/v2/` (no auth) and blobs by digest (`/v2/<repo>/blobs/sha256:…`,
 * GET and HEAD, with Content-Length and Docker-Content-Digest), counting
 * requests per method and path. Its shape is set at run time: a latency
 * before every blob answer and a bandwidth per response, for the cold pull
 * (warm rows fill the cache with the shape off). A registry's manifests,
 * tags and token flow play no part in serving a blob by digest, so they
 * are left out (the oci mode's own tests run against docker-registry).
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Latency before the headers and bandwidth of the body; zeros: as fast as possible. */
export interface OriginShape {
  latencyMs: number;
  bytesPerSecond: number;
}

/** The running origin. */
export interface OciBlobOrigin {
  url: string;
  /** Adds a blob to `repo`; returns its digest (`sha256:<hex>`) and its path below the origin. */
  add(repo: string, bytes: Buffer): { digest: string; path: string };
  /** Requests of `path` with `method` answered so far. */
  count(path: string, method?: string): number;
  shape: OriginShape;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes `body` at `bytesPerSecond` in 50 ms slices (all at once when 0). */
async function throttled(res: ServerResponse, body: Buffer, bytesPerSecond: number): Promise<void> {
  if (bytesPerSecond <= 0) {
    res.end(body);
    return;
  }
  const step = Math.max(1, Math.floor(bytesPerSecond / 20));
  for (let off = 0; off < body.length && !res.destroyed; off += step) {
    const more = res.write(body.subarray(off, off + step));
    const started = performance.now();
    if (!more) await new Promise<void>((r) => res.once('drain', r));
    await sleep(Math.max(0, 50 - (performance.now() - started)));
  }
  res.end();
}

/** Starts the origin on a random port of 127.0.0.1. */
export async function startOciBlobOrigin(): Promise<OciBlobOrigin> {
  const blobs = new Map<string, { bytes: Buffer; digest: string }>();
  const counts = new Map<string, number>();
  const shape: OriginShape = { latencyMs: 0, bytesPerSecond: 0 };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const key = `${req.method ?? ''} ${path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      res.end('{}');
      return;
    }
    const blob = blobs.get(path);
    if (!blob || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
      return;
    }
    const { latencyMs, bytesPerSecond } = shape;
    if (latencyMs > 0) await sleep(latencyMs);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.bytes.length), 'docker-content-digest': blob.digest });
    if (req.method === 'HEAD') res.end();
    else await throttled(res, blob.bytes, bytesPerSecond);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    shape,
    add(repo, bytes) {
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const path = `/v2/${repo}/blobs/${digest}`;
      blobs.set(path, { bytes, digest });
      return { digest, path };
    },
    count: (path, method = 'GET') => counts.get(`${method} ${path}`) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
