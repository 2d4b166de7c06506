/**
 * Distribution files and their `.metadata` sidecars. A file is fetched
 * only from the URL its project's index named (the index is loaded first
 * when regcache has not read it yet), so the files route cannot be made
 * to fetch anything else. Every file is checked against the index's
 * sha256 before it is stored or its last bytes are served; a file the
 * index gives no sha256 for is refused. A sidecar is checked against the
 * core-metadata hash when the index gives one. `file_policy` /
 * `companion_policy` decide how each is kept; `bypass` streams it through
 * checked (checked-stream.ts), storing nothing.
 */
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute, ArtifactSource } from '../../core/route.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import type { StreamAnswer } from '../mirror.js';
import { checkedStream } from './checked-stream.js';
import type { PypiBusy, PypiPolicy } from './settings.js';
import { artifactSource } from '../../upstream/response.js';

/** Where a file comes from and what it must hash to. */
export interface FileTarget {
  url: string;
  /** Expected sha256 (lowercase hex); undefined only for a sidecar whose index gives none. */
  sha256: string | undefined;
}

/** How a kind of file is kept. */
export interface FilePolicy {
  policy: PypiPolicy;
  freshForMs: number;
  busy: PypiBusy;
  expireAfterMs: number;
  maxBytes: number;
}


/** The content type of a file by name. */
export function fileContentType(filename: string): string {
  if (filename.endsWith('.metadata')) return 'text/plain; charset=utf-8';
  if (filename.endsWith('.whl') || filename.endsWith('.zip')) return 'application/zip';
  if (filename.endsWith('.tar.gz') || filename.endsWith('.tgz')) return 'application/gzip';
  return 'application/octet-stream';
}

/**
 * The route of a stored file. `target` is what the index said, or a
 * function that loads the index to find out (a stored copy is served
 * without it; it is called only when upstream must be asked).
 */
export function fileRoute(key: string, filename: string, client: UpstreamClient, target: FileTarget | (() => Promise<FileTarget>), policy: FilePolicy): ArtifactRoute {
  let known = typeof target === 'function' ? undefined : target;
  let opened: UpstreamResponse | undefined;
  const resolve = async (): Promise<FileTarget> => (known ??= typeof target === 'function' ? await target() : target);
  const source = (res: UpstreamResponse): ArtifactSource => {
    opened = res;
    return artifactSource(res);
  };
  const route: ArtifactRoute = {
    kind: 'artifact',
    key,
    contentType: fileContentType(filename),
    class: 'artifact',
    async fetch(signal) {
      const t = await resolve();
      return source(await client.open(t.url, { signal }));
    },
    verify(summary) {
      // Bytes another worker process downloaded were checked there against the same index.
      if (known?.sha256 !== undefined && summary.sha256 !== known.sha256) {
        throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `${filename} does not match the sha256 its index gives`);
      }
    },
    get holdBack(): number {
      return client.holdBackFor(opened);
    },
    maxBytes: policy.maxBytes,
    ...(Number.isFinite(policy.expireAfterMs) ? { expireAfterMs: policy.expireAfterMs } : {}),
  };
  if (policy.policy === 'revalidate') {
    route.freshness = { freshForMs: policy.freshForMs, busy: policy.busy };
    route.revalidate = async (validators, signal) => {
      const t = await resolve();
      const headers: Record<string, string> = {};
      if (validators.etag !== undefined) headers['if-none-match'] = validators.etag;
      if (validators.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified;
      try {
        return source(await client.open(t.url, { signal, headers }));
      } catch (err) {
        if (err instanceof RegcacheError && err.upstreamStatus === 304) return 'not-modified';
        throw err;
      }
    };
  }
  return route;
}

/** A file streamed through, checked, stored nowhere; `authorization` only when the file lives on the upstream's origin. */
export async function passFile(method: 'GET' | 'HEAD', filename: string, client: UpstreamClient, t: FileTarget, maxBytes: number, authorization: string | undefined): Promise<StreamAnswer> {
  const res = await client.open(t.url, { method, ...(authorization !== undefined ? { authorization } : {}) });
  const headers: Record<string, string> = { 'content-type': fileContentType(filename), 'cache-control': 'no-store' };
  if (res.size !== undefined) headers['content-length'] = String(res.size);
  if (method === 'HEAD') {
    res.body.destroy();
    return { kind: 'stream', status: 200, headers, body: undefined };
  }
  return { kind: 'stream', status: 200, headers, body: checkedStream(res.body, t.sha256, res.size, maxBytes) };
}
