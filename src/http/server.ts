/**
 * The listener: HTTP or HTTPS, bounded request-receiving timeouts, and a
 * graceful stop that lets in-flight responses finish up to a deadline
 * before connections are cut. Fills are aborted (never committed) by the
 * caller's cache.close() after the listener stopped.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** TLS material for the listener, or none for plain HTTP. */
export type ListenerTls = { cert: string; key: string } | undefined;

/** A started listener. */
export interface Listener {
  readonly server: Server;
  /** Actual bound address (port 0 → the chosen port). */
  address(): { host: string; port: number };
  /** Stops accepting, waits for in-flight requests up to `deadlineMs`, then cuts connections. */
  stop(deadlineMs: number): Promise<void>;
}

/** Starts listening on host:port with the given request handler. */
export async function startListener(
  host: string,
  port: number,
  tls: ListenerTls,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listener> {
  const options = { keepAliveTimeout: 65_000, headersTimeout: 20_000, requestTimeout: 30_000, maxHeaderSize: 16 * 1024 };
  const server: Server = tls ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, handler) : createHttpServer(options, handler);
  let inflight = 0;
  let drained: (() => void) | undefined;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inflight++;
    res.once('close', () => {
      inflight--;
      if (inflight === 0) drained?.();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address() {
      const a = server.address() as AddressInfo;
      return { host: a.address, port: a.port };
    },
    async stop(deadlineMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inflight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => {
            drained = resolve;
          }),
          new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
