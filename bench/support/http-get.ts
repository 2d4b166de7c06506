/**
 * One GET with the body counted and dropped, over HTTP or HTTPS trusting a
 * given CA: used to warm caches and to check that both sides of a
 * comparison serve the same bytes before they are timed.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/** What came back. */
export interface GetResult {
  status: number;
  bytes: number;
  sha256: string;
  ms: number;
  /** The body as text when it is small (≤ 1 MB), else ''. */
  bodyText: string;
}

const KEEP_TEXT = 1_000_000;

/** GETs `url` (no keep-alive), hashing the body; rejects on transport errors or after `timeoutMs`. */
export function getUrl(url: string, caPem?: string, timeoutMs = 120_000): Promise<GetResult> {
  const started = performance.now();
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { agent: false, ...(caPem === undefined ? {} : { ca: caPem }) }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      const kept: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
        if (bytes <= KEEP_TEXT) kept.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const bodyText = bytes <= KEEP_TEXT ? Buffer.concat(kept).toString('utf8') : '';
        resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex'), ms: performance.now() - started, bodyText });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** GETs and throws unless the answer is 200. */
export async function mustGet(url: string, caPem?: string): Promise<GetResult> {
  const r = await getUrl(url, caPem);
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}`);
  return r;
}

/** Runs `fn` over `items` with at most `limit` at once, in order of completion. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const item = items[i];
      if (i >= items.length || item === undefined) return;
      await fn(item, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
