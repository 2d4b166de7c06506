/**
 * The request handler: health, readiness, mounted mirrors, one log line per
 * request. Every failure becomes a short JSON error; nothing thrown here can
 * take the process down.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Cache } from '../core/cache.js';
import { RegcacheError, toRegcacheError } from '../core/errors.js';
import type { CacheResult } from '../core/route.js';
import { canonicalPath, type Mirror } from '../mirrors/mirror.js';
import type { Store } from '../storage/store.js';
import { parseRequestPath } from './request-path.js';
import { pickRange, sendArtifact, sendBody, sendError } from './respond.js';

/** What the handler needs. */
export interface HandlerDeps {
  mirrors: readonly Mirror[];
  cache: Cache;
  store: Store;
  log: Logger;
  /** Fixed public URL, or undefined to derive it from the request. */
  publicUrl: string | undefined;
  trustProxy: boolean;
  tls: boolean;
}

/** Per-request outcome used for the log line. */
interface Outcome {
  cache: CacheResult | undefined;
  bytes: number;
  code?: string;
}

function baseUrlOf(req: IncomingMessage, deps: HandlerDeps): string {
  if (deps.publicUrl) return deps.publicUrl;
  const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  const proto = (deps.trustProxy && first(req.headers['x-forwarded-proto'])) || (deps.tls ? 'https' : 'http');
  const host = (deps.trustProxy && first(req.headers['x-forwarded-host'])) || req.headers.host || 'localhost';
  return `${proto}://${host}`;
}

const JSON_OK = Buffer.from('{"status":"ok"}');

/** Creates the node:http request listener. */
export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { log } = deps;

  async function route(req: IncomingMessage, res: ServerResponse, out: Outcome): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new RegcacheError('ERR_METHOD_NOT_ALLOWED');
    const segments = parseRequestPath(req.url);
    if (segments.length === 1 && segments[0] === 'health') {
      out.bytes = sendBody(req, res, 200, 'application/json', JSON_OK, { 'cache-control': 'no-store' });
      return;
    }
    if (segments.length === 1 && segments[0] === 'ready') {
      await deps.store.checkWritable();
      out.bytes = sendBody(req, res, 200, 'application/json', Buffer.from(JSON.stringify({ status: 'ready', store: deps.store.kind })), { 'cache-control': 'no-store' });
      return;
    }
    const mirror = deps.mirrors.find((m) => m.prefix.every((p, i) => segments[i] === p));
    if (!mirror) throw new RegcacheError('ERR_NOT_FOUND');
    const answer = await mirror.handle({
      method: req.method,
      segments: segments.slice(mirror.prefix.length),
      path: canonicalPath(segments),
      query: new URLSearchParams((req.url ?? '').split('?')[1] ?? ''),
      headers: req.headers,
      baseUrl: baseUrlOf(req, deps),
    });
    if (answer.kind === 'body') {
      out.cache = answer.result;
      out.bytes = sendBody(req, res, answer.status, answer.contentType, answer.body, { 'cache-control': 'no-cache', ...answer.headers });
      return;
    }
    const rangeHeader = req.headers.range;
    const reply = await deps.cache.artifact(answer.route, {
      head: req.method === 'HEAD',
      pickRange: (size) => pickRange(rangeHeader, size),
    });
    out.cache = reply.result;
    await sendArtifact(req, res, reply, out);
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    const out: Outcome = { cache: undefined, bytes: 0 };
    const path = (req.url ?? '').split('?', 1)[0]?.slice(0, 512);
    route(req, res, out)
      .catch((err: unknown) => {
        const e = toRegcacheError(err);
        const clientGone = req.destroyed || res.destroyed || (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE';
        out.code = clientGone && !(err instanceof RegcacheError) ? 'CLIENT_ABORTED' : e.code;
        out.cache ??= 'error';
        if (e.code === 'ERR_INTERNAL' && !clientGone) log.error({ err, path }, 'internal error');
        if (!res.headersSent) out.bytes = sendError(req, res, e);
        else res.destroy();
      })
      .finally(() => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log.info(
          { method: req.method, path, status: res.headersSent ? res.statusCode : 0, cache: out.cache ?? 'bypass', bytes: out.bytes, ms: Math.round(ms * 10) / 10, ...(out.code ? { code: out.code } : {}) },
          'request',
        );
      });
  };
}
