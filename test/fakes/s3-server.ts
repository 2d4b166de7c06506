/**
 * A small but real S3-protocol server for tests, on node:http at 127.0.0.1,
 * path-style addressing, bodies on disk.
 *
 * Why our own: s3rver (the maintained-looking npm candidate) is unmaintained
 * since 2021, breaks ListObjectsV2 pagination on Node 20 (it uses a cipher
 * OpenSSL 3 dropped), and silently ignores If-None-Match; its successor fork
 * needs Node 24; MinIO/moto are not installable here. This server speaks the
 * wire protocol the AWS SDK v3 uses (XML bodies, S3 error codes, SigV4
 * requests incl. aws-chunked payloads; signatures are accepted unchecked)
 * for exactly the operations regcache needs, and adds what tests need:
 * fault injection, a switch for conditional-write support, request counts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operationOf, runOperation, S3Error, type ConditionalMode, type S3HandlerContext } from './s3-handlers.js';
import { createObjectIndex } from './s3-objects.js';
import { errorXml } from './s3-xml.js';

export type { ConditionalMode } from './s3-handlers.js';

/** Failures the server can be told to answer with. */
export type S3Fault = 'AccessDenied' | 'SlowDown' | 'NoSuchBucket';

const FAULTS: Record<S3Fault, { status: number; message: string }> = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
};

/** Options for the fake S3 server. */
export interface S3ServerOptions {
  /** Where blobs go; a fresh temp dir (removed on close) by default. */
  dir?: string;
  /** Buckets that exist from the start. */
  buckets?: readonly string[];
  /** How If-None-Match on writes is treated (default: supported, as on AWS). */
  conditionalWrites?: ConditionalMode;
  /** Smallest non-final multipart part (default 5 MiB, as on AWS). */
  minPartSize?: number;
}

/** A running fake S3 server. */
export interface S3Server {
  /** Base URL for the SDK's `endpoint` (use forcePathStyle). */
  readonly endpoint: string;
  readonly port: number;
  createBucket(name: string): void;
  /**
   * Answers every request (or only the named operations) with `fault`, for
   * the next `times` matching requests or until cleared; undefined clears it.
   */
  setFault(fault: S3Fault | undefined, ops?: readonly string[], times?: number): void;
  setConditionalWrites(mode: ConditionalMode): void;
  /** Requests received for one operation (e.g. "PutObject"), or in total. */
  count(op?: string): number;
  resetCounts(): void;
  /** Resolves when the next request for `op` arrives (before it is answered). */
  nextRequest(op: string): Promise<void>;
  /** Multipart uploads started and neither completed nor aborted. */
  openUploads(): number;
  close(): Promise<void>;
}

/** Starts the server on a random port of 127.0.0.1. */
export async function startS3Server(opts: S3ServerOptions = {}): Promise<S3Server> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'regcache-s3-')));
  const index = await createObjectIndex(dir);
  for (const b of opts.buckets ?? []) index.createBucket(b);
  let conditional: ConditionalMode = opts.conditionalWrites ?? 'supported';
  let fault: { kind: S3Fault; ops: ReadonlySet<string> | undefined; left: number } | undefined;
  const counts = new Map<string, number>();
  const waiters = new Map<string, Array<() => void>>();
  const ctx: S3HandlerContext = { index, conditional: () => conditional, minPartSize: opts.minPartSize ?? 5 * 1024 * 1024 };

  const sendError = (req: IncomingMessage, res: ServerResponse, err: S3Error, resource: string): void => {
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const headers = { ...err.headers, 'x-amz-request-id': requestId };
    if (req.method === 'HEAD') {
      res.writeHead(err.status, headers).end();
      return;
    }
    res.writeHead(err.status, { ...headers, 'content-type': 'application/xml' }).end(errorXml(err.code, err.message, resource, requestId));
    // A refused upload's body may still be arriving: read and drop it so the client sees the answer, not a reset.
    req.resume();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, rawBucket = '', ...rest] = url.pathname.split('/');
    const bucket = decodeURIComponent(rawBucket);
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    const method = req.method ?? 'GET';
    const op = operationOf(method, bucket, key, url.searchParams, req.headers);
    const name = op ?? `${method}?`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const waiting = waiters.get(name);
    waiters.delete(name);
    for (const wake of waiting ?? []) wake();
    const resource = url.pathname;
    try {
      if (!op) throw new S3Error(501, 'NotImplemented', 'A header or request you provided implies functionality that is not implemented');
      if (fault && (!fault.ops || fault.ops.has(op))) {
        const { kind } = fault;
        if (--fault.left <= 0) fault = undefined;
        throw new S3Error(FAULTS[kind].status, kind, FAULTS[kind].message);
      }
      await runOperation(ctx, op, { req, res, bucket, key, query: url.searchParams });
    } catch (err) {
      const s3err = err instanceof S3Error ? err : new S3Error(500, 'InternalError', `We encountered an internal error: ${(err as Error).message}`);
      sendError(req, res, s3err, resource);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    createBucket(name) {
      index.createBucket(name);
    },
    setFault(kind, ops, times) {
      fault = kind === undefined ? undefined : { kind, ops: ops ? new Set(ops) : undefined, left: times ?? Infinity };
    },
    setConditionalWrites(mode) {
      conditional = mode;
    },
    count(op) {
      if (op !== undefined) return counts.get(op) ?? 0;
      let n = 0;
      for (const v of counts.values()) n += v;
      return n;
    },
    resetCounts() {
      counts.clear();
    },
    nextRequest(op) {
      return new Promise((resolve) => waiters.set(op, [...(waiters.get(op) ?? []), resolve]));
    },
    openUploads: () => index.uploadCount(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
      await index.close();
    },
  };
}
