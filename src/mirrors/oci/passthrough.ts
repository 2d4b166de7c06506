/**
 * The `bypass` policy (and a HEAD of a blob not cached): the registry's
 * answer streams to the client and nothing is stored. A blob's bytes are
 * still checked against their digest on the way (digest-check.ts); a
 * manifest's headers (`Content-Type`, `Docker-Content-Digest`) pass
 * byte-exact.
 */
import type { UpstreamResponse } from '../../upstream/client.js';
import type { StreamAnswer } from '../mirror.js';
import { keptContentType } from './accept.js';
import { checkedByDigest } from './digest-check.js';
import { isDigest, parseDigest, type Digest } from './names.js';

function digestHeader(res: UpstreamResponse, fallback: string | undefined): Record<string, string> {
  const raw = res.headers['docker-content-digest'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  const d = v !== undefined && isDigest(v) ? v : fallback;
  return d !== undefined ? { 'docker-content-digest': d } : {};
}

/** Streams an opened registry answer, checked against the digest the request named (else the one the registry announced). */
export function passThrough(res: UpstreamResponse, head: boolean, kind: 'blob' | 'manifest', digest: Digest | undefined): StreamAnswer {
  const headers: Record<string, string> = {
    'content-type': kind === 'blob' ? 'application/octet-stream' : keptContentType(res.headers['content-type'], 'application/vnd.oci.image.manifest.v1+json'),
    'cache-control': 'no-cache',
    ...digestHeader(res, digest?.text),
    ...(kind === 'manifest' ? { vary: 'Accept' } : {}),
  };
  if (res.size !== undefined) headers['content-length'] = String(res.size);
  if (head) {
    res.body.destroy();
    return { kind: 'stream', status: 200, headers, body: undefined };
  }
  const announced = headers['docker-content-digest'];
  const check = digest ?? (announced !== undefined ? parseDigest(announced) : undefined);
  return { kind: 'stream', status: 200, headers, body: check !== undefined ? checkedByDigest(res.body, check) : res.body };
}
