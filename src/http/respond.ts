/**
 * Writing answers: JSON bodies, errors, and artifacts with HEAD, Range,
 * ETag and conditional requests. Streams are piped with backpressure; a
 * stream error after headers were sent destroys the socket so the client
 * sees a broken transfer, never a short "complete" one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished, pipeline, type Readable } from 'node:stream';
import type { ArtifactReply } from '../core/cache.js';
import { ErrorCodes, type RegcacheError } from '../core/errors.js';
import { lendsChunks, type ByteRange, type ChunkLender } from '../core/store.js';
import { statusFor } from './error-status.js';

/** Sends a body answer (JSON etc.); HEAD gets headers only. */
export function sendBody(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: Buffer, headers: Record<string, string> = {}): number {
  return writeBody(req, res, status, { 'content-type': contentType, 'content-length': String(body.length), ...headers }, body);
}

/** Sends a body with complete headers (content-length included); HEAD gets headers only. Returns body bytes sent. */
export function writeBody(req: IncomingMessage, res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: Buffer): number {
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return 0;
  }
  res.end(body);
  return body.length;
}

/** Sends a short JSON error with its stable code. */
export function sendError(req: IncomingMessage, res: ServerResponse, err: RegcacheError): number {
  const status = statusFor(err);
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const message = status >= 500 && err.code === 'ERR_INTERNAL' ? ErrorCodes.ERR_INTERNAL : err.message;
  const body = Buffer.from(JSON.stringify({ errors: [message], code: err.code }));
  return sendBody(req, res, status, 'application/json', body, { 'cache-control': 'no-store' });
}

/** Parses a single-range `Range` header against a size (multi-range is ignored). */
export function pickRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** Headers the core sets on an artifact answer itself; a route's `headers` cannot replace them. */
const CORE_ARTIFACT_HEADERS = new Set(['content-type', 'content-length', 'content-range', 'accept-ranges', 'cache-control', 'etag', 'last-modified']);

function routeHeaders(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (extra) for (const [k, v] of Object.entries(extra)) if (!CORE_ARTIFACT_HEADERS.has(k.toLowerCase())) out[k.toLowerCase()] = v;
  return out;
}

/**
 * Writes an artifact reply; `sent.bytes` counts body bytes as they go (also
 * when the transfer is cut). A `mutable` artifact (a route with freshness)
 * may change: clients revalidate it (cheap, by ETag) instead of keeping it.
 */
export function sendArtifact(req: IncomingMessage, res: ServerResponse, reply: ArtifactReply, sent: { bytes: number }, mutable = false, extra?: Readonly<Record<string, string>>): Promise<void> {
  const headers: Record<string, string> = {
    ...routeHeaders(extra),
    'content-type': reply.contentType,
    'accept-ranges': 'bytes',
    'cache-control': mutable ? 'no-cache' : 'public, max-age=31536000, immutable',
  };
  if (reply.sha256) headers.etag = `"${reply.sha256}"`;
  if (reply.storedAt) headers['last-modified'] = new Date(reply.storedAt).toUTCString();
  if (reply.sha256 && req.headers['if-none-match'] === headers.etag) {
    reply.body?.destroy();
    res.writeHead(304, headers);
    res.end();
    return Promise.resolve();
  }
  let status = 200;
  if (reply.range && reply.size !== undefined) {
    status = 206;
    headers['content-range'] = `bytes ${reply.range.start}-${reply.range.end}/${reply.size}`;
    headers['content-length'] = String(reply.range.end - reply.range.start + 1);
  } else if (reply.size !== undefined) {
    headers['content-length'] = String(reply.size);
  }
  res.writeHead(status, headers);
  const body = reply.body;
  if (!body) {
    res.end();
    return Promise.resolve();
  }
  if (lendsChunks(body)) return pumpLending(body, res, sent);
  body.on('data', (c: Buffer) => {
    sent.bytes += c.length;
  });
  return new Promise((resolve, reject) => {
    pipeline(body, res, (err) => {
      if (err && !res.writableFinished) {
        res.destroy();
        reject(err);
      } else resolve();
    });
  });
}

/**
 * pipeline(body, res) for a body that lends its chunks: each chunk goes back
 * to the body once the socket write that carried it completed without error,
 * so the next read reuses its memory. Same contract as the pipeline path: an
 * error on either side destroys both and rejects; a finished response resolves.
 */
function pumpLending(body: Readable & ChunkLender, res: ServerResponse, sent: { bytes: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      body.destroy();
      res.destroy();
      reject(err);
    };
    const resume = (): void => {
      body.resume();
    };
    body.on('data', (chunk: Buffer) => {
      sent.bytes += chunk.length;
      const more = res.write(chunk, (err) => {
        if (!err) body.releaseChunk(chunk);
      });
      if (!more) {
        body.pause();
        res.once('drain', resume);
      }
    });
    body.once('end', () => res.end());
    body.once('error', fail);
    finished(res, (err) => {
      if (err && !res.writableFinished) {
        fail(err);
        return;
      }
      if (settled) return;
      settled = true;
      if (!body.destroyed) body.destroy();
      resolve();
    });
  });
}
