/**
 * A tiny HTTPS client for tests that must trust a throwaway CA and see raw
 * bytes, statuses and headers exactly as served (no redirects followed, no
 * decompression, no connection reuse that would outlive the test).
 */
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/** What came back. */
export interface HttpsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Request options; `ca` undefined means the system trust store. */
export interface HttpsRequestOptions {
  ca?: string;
  method?: string;
  headers?: Record<string, string>;
  /** Rejects when no complete answer arrived in time. */
  timeoutMs?: number;
}

/** Sends one request and buffers the whole answer; rejects on any transport error. */
export function httpsRequest(url: string, opts: HttpsRequestOptions = {}): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: false,
        ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () => {
          if (res.complete) resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          else reject(new Error('response incomplete'));
        });
      },
    );
    if (opts.timeoutMs !== undefined) {
      req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`timed out after ${opts.timeoutMs}ms`)));
    }
    req.on('error', reject);
    req.end();
  });
}
