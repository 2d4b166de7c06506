/**
 * The configured upstreams, tried in order for one path. The next one is
 * tried when an upstream cannot be reached, times out, answers broken, or
 * answers any error status but 404 / 410 (5xx, 429, 401/403: as
 * cache-proxy); a 404 is authoritative and ends the search, so a missing
 * file costs one request. A 304 to a conditional request ends it too.
 * Only the configured base URLs are contacted, with the validated path
 * appended, and only the headers `pass_headers` names are forwarded.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RegcacheError } from '../../core/errors.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';

/** Headers regcache sets itself or that must never reach an upstream on a client's behalf. */
const NEVER_PASSED = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'host', 'connection', 'keep-alive', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-prefix', 'x-real-ip',
  'range', 'if-range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'accept-encoding', 'content-length', 'user-agent',
]);

/** An upstream answer and which base URL gave it. */
export interface OpenedUpstream {
  res: UpstreamResponse;
  base: string;
}

/** A request to the upstream list. */
export interface UpstreamRequest {
  method: 'GET' | 'HEAD';
  /** Percent-encoded path starting with "/". */
  path: string;
  headers: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

/** The upstream list of one instance. */
export interface FileUpstreams {
  /** Opens the path at the first upstream that has it (a 304 counts as that upstream's failure). */
  open(req: UpstreamRequest): Promise<OpenedUpstream>;
  /** The same for a conditional request (its validators in `headers`): a 304 answers 'not-modified'. */
  openConditional(req: UpstreamRequest): Promise<OpenedUpstream | 'not-modified'>;
  /** The `pass_headers` a client sent, to forward (never a credential or a header regcache sets). */
  passed(headers: IncomingHttpHeaders): Record<string, string>;
  /** Header names of `pass_headers` that are never forwarded. */
  readonly refusedHeaders: readonly string[];
}

/** Whether a failure of one upstream means the next one should be asked. */
function tryNext(err: RegcacheError): boolean {
  return err.code !== 'ERR_UPSTREAM_NOT_FOUND';
}

/** Creates the upstream list; `bases` are validated base URLs without a trailing slash. */
export function createFileUpstreams(client: UpstreamClient, bases: readonly string[], passHeaders: readonly string[]): FileUpstreams {
  const pass = passHeaders.filter((h) => !NEVER_PASSED.has(h));
  return {
    refusedHeaders: passHeaders.filter((h) => NEVER_PASSED.has(h)),

    passed(headers) {
      const out: Record<string, string> = {};
      for (const name of pass) {
        const v = headers[name];
        const text = Array.isArray(v) ? v.join(', ') : v;
        if (text !== undefined && text.length <= 8192) out[name] = text;
      }
      return out;
    },

    async open(req) {
      const got = await first(req, false);
      if (got === 'not-modified') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream answered 304 to an unconditional request');
      return got;
    },

    openConditional: (req) => first(req, true),
  };

  async function first(req: UpstreamRequest, conditional: boolean): Promise<OpenedUpstream | 'not-modified'> {
    let last: RegcacheError | undefined;
    for (const base of bases) {
      try {
        const res = await client.open(`${base}${req.path}`, { method: req.method, headers: req.headers, ...(req.signal ? { signal: req.signal } : {}) });
        return { res, base };
      } catch (err) {
        if (!(err instanceof RegcacheError)) throw err;
        if (conditional && err.upstreamStatus === 304) return 'not-modified';
        if (!tryNext(err)) throw err;
        last = err;
      }
    }
    throw last ?? new RegcacheError('ERR_UPSTREAM_UNREACHABLE', 'no upstream configured');
  }
}
