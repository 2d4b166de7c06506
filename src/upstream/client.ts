/**
 * The one outbound HTTP client (undici). It knows nothing of registries: it
 * fetches URLs it is given, bounded in time and size, follows a few
 * redirects, and maps every failure to a stable error code. Which registry
 * hosts may be named is decided by the caller before a URL reaches this
 * client; every hop it then makes (the first URL, each redirect, each
 * address it connects to) passes the outbound policy (policy.ts).
 * Credentials given for one origin are dropped on a redirect to any other.
 */
import { Readable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import { Agent, ProxyAgent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { RegcacheError } from '../core/errors.js';
import { HOLDBACK } from '../core/fill.js';
import { policyConnector } from './connector.js';
import type { OutboundPolicy } from './policy.js';
import { loadTrustedCas } from './trust.js';
import { readCapped } from '../core/read-capped.js';

const MAX_REDIRECTS = 5;

/** Client settings (from config.upstream). */
export interface UpstreamClientOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  userAgent: string;
  /** What every hop must pass (scheme, user-info, addresses). */
  policy: OutboundPolicy;
  /** Total time a whole metadata read (`bytes`, `json`) may take, redirects and body included. */
  metadataDeadlineMs: number;
  /** Artifacts from tolerated origins are held back up to this many bytes (so wholly below it) until verified. */
  holdBackAllBelow: number;
  /** Extra trusted CAs in PEM (tests); system roots and NODE_EXTRA_CA_CERTS are always trusted. */
  extraCaPem?: string[];
  /** Observes every outbound request (metrics): status, or undefined on a transport error. */
  onResponse?: (e: { host: string; status: number | undefined; seconds: number }) => void;
  /** An outbound HTTP proxy (an instance's `transport.proxy`); requests are tunnelled through it. */
  proxy?: string;
}

/** Per-request options. */
export interface FetchOptions {
  signal?: AbortSignal;
  /** Sent only to the origin of the first URL; dropped on cross-origin redirects. */
  authorization?: string;
  accept?: string;
  method?: 'GET' | 'HEAD';
  /** Further request headers (conditional validators, a mode's forwarded headers); sent on every hop. */
  headers?: Readonly<Record<string, string>>;
}

/** A successful (2xx) upstream answer with its body still to be read. */
export interface UpstreamResponse {
  status: number;
  finalUrl: string;
  headers: Record<string, string | string[] | undefined>;
  size: number | undefined;
  body: Readable;
  /** Every hop was on an origin the operator configured (none only tolerated). */
  configured: boolean;
}

/** Outbound HTTP, bounded and mapped to RegcacheError codes. */
export interface UpstreamClient {
  /** Opens a 2xx answer (following redirects); any other status throws. */
  open(url: string, opts?: FetchOptions): Promise<UpstreamResponse>;
  /** Reads a whole 2xx body of at most `maxBytes`. */
  bytes(url: string, maxBytes: number, opts?: FetchOptions): Promise<{ body: Buffer; finalUrl: string; contentType: string | undefined; headers: UpstreamResponse['headers'] }>;
  /** Reads and parses a JSON body of at most `maxBytes`. */
  json(url: string, maxBytes: number, opts?: FetchOptions): Promise<{ json: unknown; finalUrl: string }>;
  /**
   * The `holdBack` for an artifact filled from `res`: the usual verification
   * holdback when every hop was configured, else `holdBackAllBelow`; the
   * latter too before the answer is known (`res` undefined).
   */
  holdBackFor(res: UpstreamResponse | undefined): number;
  close(): Promise<void>;
}

/** Longest `WWW-Authenticate` challenge kept on a 401 error. */
const MAX_CHALLENGE = 4096;

/** Maps a status to the error a caller sees; a 401 keeps the upstream's challenge (`headers` given). */
export function statusError(status: number, url: string, headers?: Record<string, string | string[] | undefined>): RegcacheError {
  const where = safeUrl(url);
  if (status === 404 || status === 410) return new RegcacheError('ERR_UPSTREAM_NOT_FOUND', `upstream 404: ${where}`, { upstreamStatus: status });
  if (status === 401 || status === 403) {
    const raw = headers?.['www-authenticate'];
    const challenge = Array.isArray(raw) ? raw[0] : raw;
    const kept = status === 401 && challenge !== undefined && challenge.length <= MAX_CHALLENGE ? { challenge } : {};
    return new RegcacheError('ERR_UPSTREAM_UNAUTHORIZED', `upstream ${status}: ${where}`, { upstreamStatus: status, ...kept });
  }
  return new RegcacheError('ERR_UPSTREAM_STATUS', `upstream ${status}: ${where}`, { upstreamStatus: status });
}

/** URL without query or user-info, for logs and error messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

function mapError(err: unknown, url: string): unknown {
  if (err instanceof RegcacheError) return err;
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e.name === 'AbortError') return err;
  const code = e.code ?? e.cause?.code ?? '';
  const where = safeUrl(url);
  if (err instanceof undiciErrors.ConnectTimeoutError || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new RegcacheError('ERR_UPSTREAM_TIMEOUT', `upstream timeout (${code}): ${where}`, { cause: err });
  }
  if (err instanceof undiciErrors.ResponseContentLengthMismatchError) {
    return new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `upstream body length mismatch: ${where}`, { cause: err });
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|VERIFY/.test(code)) {
    return new RegcacheError('ERR_UPSTREAM_UNREACHABLE', `upstream TLS verification failed (${code}): ${where}`, { cause: err });
  }
  return new RegcacheError('ERR_UPSTREAM_UNREACHABLE', `upstream connection failed (${code || 'error'}): ${where}`, { cause: err });
}

/** Creates the client with one keep-alive connection pool per origin. */
export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  // One TLS context for every connection: given `ca` instead, Node builds a new context per
  // connection, parsing every trusted root again (about 7 ms of CPU each here), which is what a
  // server retrying an unreachable upstream would spend its time on.
  const tls = { secureContext: createSecureContext({ ca: loadTrustedCas(opts.extraCaPem ?? []) }), timeout: opts.connectTimeoutMs };
  const agentOptions = {
    connect: policyConnector(opts.policy, tls),
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: opts.bodyTimeoutMs,
    keepAliveTimeout: 30_000,
    connections: 32,
  };
  const agent: Dispatcher = opts.proxy ? new ProxyAgent({ ...agentOptions, uri: opts.proxy, requestTls: tls }) : new Agent(agentOptions);

  async function open(url: string, o: FetchOptions = {}): Promise<UpstreamResponse> {
    let current = url;
    const firstOrigin = new URL(url).origin;
    let configured = true;
    for (let hop = 0; ; hop++) {
      const u = new URL(current);
      opts.policy.checkUrl(u);
      configured &&= opts.policy.configured(current);
      const headers: Record<string, string> = { ...o.headers, 'user-agent': opts.userAgent };
      if (o.accept) headers.accept = o.accept;
      if (o.authorization && u.origin === firstOrigin) headers.authorization = o.authorization;
      let res;
      const t0 = process.hrtime.bigint();
      const observe = (status: number | undefined): void => opts.onResponse?.({ host: u.host, status, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
      try {
        res = await request(current, {
          method: o.method ?? 'GET',
          headers,
          dispatcher: agent,
          ...(o.signal ? { signal: o.signal } : {}),
        });
      } catch (err) {
        observe(undefined);
        throw mapError(err, current);
      }
      observe(res.statusCode);
      // undici emits 'error' when an unfinished body is destroyed; with no listener that would
      // crash the process. Consumers still see errors through iteration.
      res.body.on('error', () => undefined);
      const { statusCode } = res;
      if (statusCode >= 300 && statusCode < 400 && res.headers.location !== undefined) {
        res.body.destroy();
        if (hop >= MAX_REDIRECTS) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `too many redirects: ${safeUrl(url)}`);
        const loc = Array.isArray(res.headers.location) ? res.headers.location[0] : res.headers.location;
        current = new URL(loc ?? '', current).toString();
        continue;
      }
      if (statusCode < 200 || statusCode >= 300) {
        res.body.destroy();
        throw statusError(statusCode, current, res.headers);
      }
      const len = res.headers['content-length'];
      const size = typeof len === 'string' && /^\d+$/.test(len) ? Number(len) : undefined;
      const body = res.body;
      return { status: statusCode, finalUrl: current, headers: res.headers, size, body: wrapBodyErrors(body, current), configured };
    }
  }

  /** Runs a whole metadata read under `metadataDeadlineMs` (bodyTimeout alone only measures silence). */
  async function withinDeadline<T>(url: string, o: FetchOptions, read: (o: FetchOptions) => Promise<T>): Promise<T> {
    const deadline = AbortSignal.timeout(opts.metadataDeadlineMs);
    try {
      return await read({ ...o, signal: o.signal ? AbortSignal.any([o.signal, deadline]) : deadline });
    } catch (err) {
      if (!deadline.aborted || o.signal?.aborted === true) throw err;
      throw new RegcacheError('ERR_UPSTREAM_TIMEOUT', `upstream answer not complete within ${opts.metadataDeadlineMs} ms: ${safeUrl(url)}`, { cause: err });
    }
  }

  const bytes = (url: string, maxBytes: number, o: FetchOptions = {}) => withinDeadline(url, o, (within) => readBytes(url, maxBytes, within));

  async function readBytes(url: string, maxBytes: number, o: FetchOptions) {
    const res = await open(url, o);
    const tooLarge = (): RegcacheError => new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `upstream answer too large (> ${maxBytes} bytes): ${safeUrl(url)}`);
    const body = await readCapped(res.body, maxBytes, tooLarge, res.size);
    const ct = res.headers['content-type'];
    return { body, finalUrl: res.finalUrl, contentType: typeof ct === 'string' ? ct : undefined, headers: res.headers };
  }

  async function json(url: string, maxBytes: number, o: FetchOptions = {}) {
    const r = await bytes(url, maxBytes, { accept: 'application/json', ...o });
    try {
      return { json: JSON.parse(r.body.toString('utf8')) as unknown, finalUrl: r.finalUrl };
    } catch {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `upstream answered malformed JSON: ${safeUrl(url)}`);
    }
  }

  const holdBackFor = (res: UpstreamResponse | undefined): number => (res?.configured === true ? HOLDBACK : opts.holdBackAllBelow);

  return { open, bytes, json, holdBackFor, close: () => agent.close() };
}

/** Re-emits body errors as RegcacheErrors so every consumer sees stable codes. */
function wrapBodyErrors(body: Readable, url: string): Readable {
  const gen = async function* (): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) yield chunk;
    } catch (err) {
      throw mapError(err, url);
    } finally {
      body.destroy();
    }
  };
  const out = Readable.from(gen(), { objectMode: false });
  // A wrapper destroyed before it was read (a fill refusing an announced size) never runs the
  // generator's finally: the upstream body must be released here, or its connection stays busy
  // and the client's close() waits for it forever.
  out.once('close', () => body.destroy());
  return out;
}
