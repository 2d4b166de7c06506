/**
 * Each worker's internal listener (`server.workers` > 1): plain HTTP on a
 * unix socket in a directory only regcache's user can open (0700, made by
 * the primary). It serves two things to the other workers of this host:
 * - the follow endpoint: the bytes of a fill this worker runs, as they are
 *   released, to feed another worker's fill of the same key (one more
 *   follower here);
 * - on the lead worker, the admin API forwarded from the others, so warm
 *   jobs, gc and stats have one home.
 * Nothing on it is reachable from the network.
 */
import { rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Cache } from '../core/cache.js';
import { RegcacheError, toRegcacheError } from '../core/errors.js';
import type { Endpoint } from '../http/endpoint.js';
import { statusFor } from '../http/error-status.js';
import { FOLLOW_PATH, UPSTREAM_STATUS_HEADER } from './messages.js';

/** A started internal listener. */
export interface InternalListener {
  close(): Promise<void>;
}

async function serveFollow(cache: Cache, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const key = query.get('key');
  if (!key) throw new RegcacheError('ERR_BAD_REQUEST', 'key missing');
  const got = await cache.followLocal(key);
  if (!got) {
    res.writeHead(404, { 'content-length': '0' }).end();
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    ...(got.size !== undefined ? { 'content-length': String(got.size) } : {}),
  });
  // A failed fill destroys the follower; the cut response fails the other worker's fill the same way.
  await pipeline(got.body, res).catch(() => res.destroy());
}

/**
 * A fill that failed before its first byte: the error as its own clients got
 * it (code, message, upstream status), so the other worker's clients get the
 * same answer (see remoteFill).
 */
function sendFollowError(res: ServerResponse, err: RegcacheError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({ errors: [err.message], code: err.code }));
  const upstream = err.upstreamStatus === undefined ? {} : { [UPSTREAM_STATUS_HEADER]: String(err.upstreamStatus) };
  res.writeHead(statusFor(err), { 'content-type': 'application/json', 'content-length': String(body.length), ...upstream }).end(body);
}

/** Starts the internal listener on `socketPath`; other requests go to `forwarded` (the admin API, on the lead worker). */
export async function startInternalListener(
  socketPath: string,
  cache: Cache,
  forwarded: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<InternalListener> {
  await rm(socketPath, { force: true });
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://internal');
    if (url.pathname !== FOLLOW_PATH) {
      forwarded(req, res);
      return;
    }
    serveFollow(cache, res, url.searchParams).catch((err: unknown) => sendFollowError(res, toRegcacheError(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
      await closed;
      await rm(socketPath, { force: true });
    },
  };
}

/** Headers that describe one connection, not the answer. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding'];

/**
 * On a worker that does not lead: the admin API answered by the lead worker.
 * The request (method, path, headers, body) goes over the lead's internal
 * socket unchanged; the lead checks the token as always.
 */
export function createAdminForward(leadSocket: string, admin: readonly Endpoint[]): Endpoint {
  return {
    name: 'admin',
    match: (m, s) => admin.some((e) => e.match(m, s)),
    handle({ req, res }) {
      return new Promise((resolve, reject) => {
        const out = request({ socketPath: leadSocket, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          let bytes = 0;
          answer.on('data', (c: Buffer) => {
            bytes += c.length;
          });
          const headers = { ...answer.headers };
          for (const h of HOP_BY_HOP) delete headers[h];
          res.writeHead(answer.statusCode ?? 502, headers);
          pipeline(answer, res).then(
            () => resolve({ bytes, log: { forwardedTo: 'lead worker' } }),
            () => {
              res.destroy();
              resolve({ bytes, log: { forwardedTo: 'lead worker' } });
            },
          );
        });
        out.on('error', (err) => {
          if (res.headersSent) {
            res.destroy();
            resolve({ bytes: 0 });
          } else reject(new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'the lead worker is not answering (restarting?)', { cause: err }));
        });
        req.pipe(out);
      });
    },
  };
}
