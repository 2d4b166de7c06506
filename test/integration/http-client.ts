/**
 * A raw plain-HTTP client for integration tests: the request target reaches
 * the server exactly as written (no URL normalisation, unlike fetch/undici),
 * and a transfer cut after the headers is reported as incomplete instead of
 * being mistaken for a short but complete body.
 */
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';

/** What came back. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** False when the connection closed before the announced body was complete. */
  complete: boolean;
}

/** Request options. */
export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Request body (POST). */
  body?: string;
  /** Called with the running byte count as body chunks arrive. */
  progress?: (received: number) => void;
  /** Destroys the request (client goes away) once this many body bytes arrived. */
  abortAfterBytes?: number;
}

/**
 * Sends one request for `target` (a raw path, sent verbatim) to `baseUrl`.
 * Resolves once the response closed, complete or not; rejects only when no
 * response head arrived at all (connection refused, reset before headers).
 */
export function rawRequest(baseUrl: string, target: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let abortedByUs = false;
    const req = http.request(
      {
        host: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        path: target,
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        let ended = false;
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          opts.progress?.(received);
          if (opts.abortAfterBytes !== undefined && received >= opts.abortAfterBytes && !abortedByUs) {
            abortedByUs = true;
            req.destroy();
          }
        });
        res.on('end', () => {
          ended = true;
        });
        res.on('error', () => undefined);
        res.on('close', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: ended && res.complete });
        });
      },
    );
    req.on('error', (err) => {
      if (!abortedByUs) reject(err);
    });
    req.end(opts.body);
  });
}

/** The parsed JSON body of a response (asserting it is JSON). */
export function jsonOf<T>(res: RawResponse): T {
  assert.match(String(res.headers['content-type']), /^application\/json\b/, 'content-type is application/json');
  return JSON.parse(res.body.toString('utf8')) as T;
}

/** The error body regcache answers with. */
export interface ErrorBody {
  errors: string[];
  code: string;
}

/** Asserts `res` is a complete JSON error `{errors:[…], code}` with this status and code; returns the body. */
export function assertJsonError(res: RawResponse, status: number, code: string | RegExp, what = ''): ErrorBody {
  const label = `${what} → ${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  assert.equal(res.status, status, label);
  assert.ok(res.complete, `${label}: complete answer`);
  const body = jsonOf<ErrorBody>(res);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `${label}: errors is a non-empty list`);
  for (const e of body.errors) assert.equal(typeof e, 'string', `${label}: each error is a string`);
  if (typeof code === 'string') assert.equal(body.code, code, label);
  else assert.match(body.code, code, label);
  return body;
}
