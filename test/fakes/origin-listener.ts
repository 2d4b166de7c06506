/**
 * An HTTP or HTTPS listener on 127.0.0.1 that can be taken down and brought
 * back on the same port, so tests can simulate an origin outage (connection
 * refused) and recovery without regcache's configuration changing; and the
 * certificate a fake origin serves HTTPS with, from a fresh CA written to a
 * file regcache can be told to trust.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCa, issueServerCert } from '../../src/http/self-signed.js';

/** A server certificate for 127.0.0.1 / localhost, and the PEM file of the CA that signed it. */
export interface OriginCertificate {
  tls: { certPem: string; keyPem: string };
  caFile: string;
}

/** Issues an origin certificate from a new CA named `caName`. */
export async function originCertificate(caName: string): Promise<OriginCertificate> {
  const ca = await generateCa(caName);
  const tls = await issueServerCert(ca, ['127.0.0.1', 'localhost']);
  const caFile = join(await mkdtemp(join(tmpdir(), 'regcache-origin-ca-')), 'ca.pem');
  await writeFile(caFile, ca.certPem);
  return { tls, caFile };
}

/** A restartable listener. */
export interface OriginListener {
  readonly port: number;
  readonly url: string;
  /** Stops accepting and destroys every open connection, hung ones included. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

/** Starts listening on a random port of 127.0.0.1: HTTPS with `tls`, plain HTTP without. */
export async function startOriginListener(
  tls: { certPem: string; keyPem: string } | undefined,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<OriginListener> {
  const server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem }, handler) : http.createServer(handler);
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
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,

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
