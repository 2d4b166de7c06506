/**
 * The request handler: built-in endpoints first, then mounted mirrors.
 * Every failure becomes a short JSON error; nothing thrown here can take the
 * process down. Each finished request is published once to subscribers
 * (request log, metrics, stats).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Cache } from '../core/cache.js';
import { RegcacheError, toRegcacheError } from '../core/errors.js';
import type { CacheResult } from '../core/route.js';
import { canonicalPath, type Mirror } from '../mirrors/mirror.js';
import type { Endpoint, RequestEvent } from './endpoint.js';
import { PreparedAnswers } from './prepared.js';
import { parseRequestPath } from './request-path.js';
import { pickRange, sendArtifact, sendError, writeBody } from './respond.js';

/** What the handler needs. */
export interface HandlerDeps {
  endpoints: readonly Endpoint[];
  mirrors: readonly Mirror[];
  cache: Cache;
  /** Fixed public URL, or undefined to derive it from the request. */
  publicUrl: string | undefined;
  trustProxy: boolean;
  tls: boolean;
  /** Called once per finished request. */
  onRequest: (e: RequestEvent) => void;
  /** When set (S3 `redirect: true`), artifact hits answer 302 to this (presigned) URL. */
  redirect: ((key: string) => Promise<string>) | undefined;
  /** Called for unexpected (500) errors. */
  onInternalError: (err: unknown, path: string) => void;
  /** Memory for prepared answers (see prepared.ts); 0 turns the hot path off. */
  preparedBytes?: number;
}

/** Mutable per-request outcome, filled while the request is served. */
interface Outcome {
  route: string;
  instance?: string;
  kind: string;
  cache: CacheResult | undefined;
  bytes: number;
  code?: string;
  extra?: Record<string, unknown>;
  /** Where a reusable body answer to this request is kept. */
  preparedKey?: string;
}

/** The externally visible base URL of this server for a request. */
export function baseUrlOf(req: IncomingMessage, deps: Pick<HandlerDeps, 'publicUrl' | 'trustProxy' | 'tls'>): string {
  if (deps.publicUrl) return deps.publicUrl;
  const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  const proto = (deps.trustProxy && first(req.headers['x-forwarded-proto'])) || (deps.tls ? 'https' : 'http');
  const host = (deps.trustProxy && first(req.headers['x-forwarded-host'])) || req.headers.host || 'localhost';
  return `${proto}://${host}`;
}

/** Creates the node:http request listener. */
export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const prepared = deps.preparedBytes ? new PreparedAnswers(deps.preparedBytes, (stamp) => deps.cache.isCurrent(stamp)) : undefined;

  async function route(req: IncomingMessage, res: ServerResponse, out: Outcome, baseUrl: string): Promise<void> {
    const method = req.method ?? 'GET';
    const segments = parseRequestPath(req.url);
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const endpoint = deps.endpoints.find((e) => e.match(method, segments));
    if (endpoint) {
      out.route = endpoint.name;
      out.kind = endpoint.name;
      const r = await endpoint.handle({ req, res, segments, query, baseUrl });
      out.bytes = r.bytes;
      out.cache = r.cache;
      if (r.log) out.extra = r.log;
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new RegcacheError('ERR_METHOD_NOT_ALLOWED');
    const mirror = deps.mirrors.find((m) => m.prefix.every((p, i) => segments[i] === p));
    if (!mirror) throw new RegcacheError('ERR_NOT_FOUND');
    out.route = mirror.name;
    if (mirror.instance !== undefined) out.instance = mirror.instance;
    out.kind = 'metadata';
    const answer = await mirror.handle({
      method,
      segments: segments.slice(mirror.prefix.length),
      path: canonicalPath(segments),
      query,
      headers: req.headers,
      baseUrl,
    });
    if (answer.kind === 'body') {
      out.cache = answer.result;
      const headers = { 'content-type': answer.contentType, 'content-length': String(answer.body.length), 'cache-control': 'no-cache', ...answer.headers };
      if (answer.reuse && out.preparedKey !== undefined) {
        prepared?.set(out.preparedKey, { route: mirror.name, ...(mirror.instance !== undefined ? { instance: mirror.instance } : {}), status: answer.status, headers, body: answer.body, stamp: answer.reuse });
      }
      out.bytes = writeBody(req, res, answer.status, headers, answer.body);
      return;
    }
    out.kind = 'artifact';
    if (answer.kind === 'stream') {
      out.cache = 'bypass';
      res.writeHead(answer.status, answer.headers);
      if (!answer.body || method === 'HEAD') {
        answer.body?.destroy();
        res.end();
        return;
      }
      answer.body.on('data', (c: Buffer) => {
        out.bytes += c.length;
      });
      await pipeline(answer.body, res);
      return;
    }
    const rangeHeader = req.headers.range;
    if (deps.redirect && method === 'GET') {
      const probe = await deps.cache.artifact(answer.route, { head: true });
      if (probe.result === 'hit') {
        out.cache = 'hit';
        res.writeHead(302, { location: await deps.redirect(answer.route.key), 'cache-control': 'no-store', 'content-length': '0' });
        res.end();
        return;
      }
    }
    const reply = await deps.cache.artifact(answer.route, {
      head: method === 'HEAD',
      pickRange: (size) => pickRange(rangeHeader, size),
    });
    out.cache = reply.result;
    await sendArtifact(req, res, reply, out, answer.route.freshness !== undefined, answer.route.headers);
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    const out: Outcome = { route: 'none', kind: 'none', cache: undefined, bytes: 0 };
    const target = req.url ?? '';
    const path = target.split('?', 1)[0]?.slice(0, 512) ?? '';
    const baseUrl = baseUrlOf(req, deps);
    // Targets with a query string are never prepared: no metadata answer depends on one,
    // and varying it must not let a client push the useful answers out of memory.
    if (prepared && (req.method === 'GET' || req.method === 'HEAD') && !target.includes('?')) {
      const key = PreparedAnswers.key(req.method, baseUrl, target);
      const p = prepared.get(key);
      if (p) {
        const bytes = writeBody(req, res, p.status, p.headers, p.body);
        deps.onRequest({ method: req.method, path, route: p.route, ...(p.instance !== undefined ? { instance: p.instance } : {}), kind: 'metadata', status: p.status, cache: 'hit', bytes, ms: elapsedMs(started) });
        return;
      }
      out.preparedKey = key;
    }
    route(req, res, out, baseUrl)
      .catch((err: unknown) => {
        const e = toRegcacheError(err);
        const clientGone = req.destroyed || res.destroyed || (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE';
        out.code = clientGone && !(err instanceof RegcacheError) ? 'CLIENT_ABORTED' : e.code;
        out.cache ??= 'error';
        if (e.code === 'ERR_INTERNAL' && !clientGone) deps.onInternalError(err, path);
        if (!res.headersSent) out.bytes = sendError(req, res, e);
        else res.destroy();
      })
      .finally(() => {
        deps.onRequest({
          method: req.method ?? '',
          path,
          route: out.route,
          ...(out.instance !== undefined ? { instance: out.instance } : {}),
          kind: out.kind,
          status: res.headersSent ? res.statusCode : 0,
          cache: out.cache ?? 'bypass',
          bytes: out.bytes,
          ms: elapsedMs(started),
          ...(out.code ? { code: out.code } : {}),
          ...(out.extra ? { extra: out.extra } : {}),
        });
      });
  };
}

/** Milliseconds since `started` (hrtime), to 0.1 ms. */
function elapsedMs(started: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
}
