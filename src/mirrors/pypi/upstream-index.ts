/**
 * One upstream read of a project's simple page (`<upstream>/simple/<name>/`),
 * normalized (index-doc.ts). JSON is asked for first when `proxy_json` is
 * on, HTML otherwise; whichever upstream sends is read by its content type.
 * A conditional read answers 'not-modified' on a 304. The client's
 * credential, when given, goes to the upstream origin only (the upstream
 * client drops it on a redirect to another origin).
 */
import { RegcacheError } from '../../core/errors.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { fromSimpleHtml } from './index-html.js';
import { fromSimpleJson, type ProjectIndex } from './index-doc.js';
import type { Validators } from '../../core/route.js';
import { validatorsOf } from '../../upstream/response.js';

/** A loaded, normalized index. */
export interface LoadedIndex {
  index: ProjectIndex;
  body: Buffer;
  etag?: string;
  lastModified?: string;
}

/** Options of one read. */
export interface IndexReadOptions {
  signal: AbortSignal;
  authorization?: string;
  validators?: Validators;
}

/** Reads project pages from the upstream. */
export interface UpstreamIndex {
  load(project: string, opts: IndexReadOptions): Promise<LoadedIndex | 'not-modified'>;
}

const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1';
const HTML_ACCEPT = 'application/vnd.pypi.simple.v1+html, text/html;q=0.1';


/** Creates the reader for `upstream` (validated base URL without trailing slash). */
export function createUpstreamIndex(client: UpstreamClient, upstream: string, json: boolean, maxBytes: number): UpstreamIndex {
  return {
    async load(project, opts) {
      const headers: Record<string, string> = {};
      if (opts.validators?.etag !== undefined) headers['if-none-match'] = opts.validators.etag;
      if (opts.validators?.lastModified !== undefined) headers['if-modified-since'] = opts.validators.lastModified;
      let got: Awaited<ReturnType<UpstreamClient['bytes']>>;
      try {
        got = await client.bytes(`${upstream}/simple/${encodeURIComponent(project)}/`, maxBytes, {
          signal: opts.signal,
          accept: json ? JSON_ACCEPT : HTML_ACCEPT,
          headers,
          ...(opts.authorization !== undefined ? { authorization: opts.authorization } : {}),
        });
      } catch (err) {
        if (opts.validators && err instanceof RegcacheError && err.upstreamStatus === 304) return 'not-modified';
        throw err;
      }
      const type = (got.contentType ?? '').toLowerCase();
      let index: ProjectIndex;
      if (type.includes('json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(got.body.toString('utf8'));
        } catch (err) {
          throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream simple JSON does not parse', { cause: err });
        }
        index = fromSimpleJson(parsed, project, got.finalUrl);
      } else {
        index = fromSimpleHtml(got.body.toString('utf8'), project, got.finalUrl);
      }
      return { index, body: Buffer.from(JSON.stringify(index)), ...validatorsOf(got.headers) };
    },
  };
}
