/**
 * The `bypass` policy (and a HEAD of a file not cached): the request goes
 * to the upstreams as it is (a GET's Range included) and the answer
 * streams back to the client, checked (checked-stream.ts), stored nowhere.
 */
import type { MirrorRequest, StreamAnswer } from '../mirror.js';
import { checkedStream } from './checked-stream.js';
import { announcedBy } from './integrity.js';
import type { FilePath } from './paths.js';
import type { FileUpstreams } from './upstreams.js';
import { firstValue } from '../../upstream/response.js';

/** Upstream answer headers a client gets from a passed-through answer. */
const KEPT = ['content-range', 'etag', 'last-modified'];

/** A single byte range, as the only Range form forwarded. */
const RANGE = /^bytes=\d*-\d*$/;

/** Streams `fp` from the first upstream that has it. */
export async function passThrough(req: MirrorRequest, fp: FilePath, upstreams: FileUpstreams, contentType: string): Promise<StreamAnswer> {
  const headers = upstreams.passed(req.headers);
  const range = firstValue(req.headers.range)?.trim();
  if (req.method === 'GET' && range !== undefined && RANGE.test(range)) headers.range = range;
  const { res } = await upstreams.open({ method: req.method, path: fp.upstreamPath, headers });
  const out: Record<string, string> = { 'content-type': contentType, 'cache-control': 'no-cache' };
  for (const name of KEPT) {
    const v = firstValue(res.headers[name]);
    if (v !== undefined && v.length <= 1024) out[name] = v;
  }
  if (firstValue(res.headers['accept-ranges'])?.toLowerCase() === 'bytes') out['accept-ranges'] = 'bytes';
  if (res.size !== undefined) out['content-length'] = String(res.size);
  if (req.method === 'HEAD') {
    res.body.destroy();
    return { kind: 'stream', status: res.status, headers: out, body: undefined };
  }
  // A part of the file (206) is checked for its length only; digests describe the whole file.
  const announced = res.status === 206 ? { size: res.size, digests: {} } : announcedBy(res.headers, res.size);
  return { kind: 'stream', status: res.status, headers: out, body: checkedStream(res.body, announced) };
}
