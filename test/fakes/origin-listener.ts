/**
 * An HTTPS listener on 127.0.0.1 that can be taken down and brought back on
 * the same port, so tests can simulate an origin outage (connection refused)
 * and recovery without regcache's configuration changing.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A restartable listener. */
export interface OriginListener {
  readonly port: number;
  readonly url: string;
  /** Stops accepting and destroys every open connection, hung ones included. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

/** Starts listening on a random port of 127.0.0.1. */
export async function startOriginListener(
  tls: { certPem: string; keyPem: string },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<OriginListener> {
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, handler);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const port = await listen(0);

  return {
    port,
    url: `https://127.0.0.1:${port}`,

    async down() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },

    async up() {
      if (server.listening) return;
      await listen(port);
    },
  };
}
