/**
 * A forward proxy on loopback that answers HTTP CONNECT by tunnelling to the
 * named host:port, and records each tunnel, so tests can prove an
 * instance's outbound requests went through `transport.proxy`.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A running proxy. */
export interface ConnectProxy {
  readonly url: string;
  /** `host:port` of every CONNECT, in order. */
  readonly tunnels: readonly string[];
  close(): Promise<void>;
}

/** Starts the proxy on a random port of 127.0.0.1. */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405, { 'content-length': '0' }).end());
  server.on('connect', (req, client: Socket) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const colon = target.lastIndexOf(':');
    const upstream = connect(Number(target.slice(colon + 1)), target.slice(0, colon).replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
