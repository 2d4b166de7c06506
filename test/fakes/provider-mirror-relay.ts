/**
 * A counting, fault-injecting HTTP relay in front of the test registry: a
 * real registry never serves bytes that do not match a digest, so the
 * tests that need a lying upstream (tampered blob) or a dead one put this
 * between regcache and `docker-registry`. Every request is counted per
 * method and path (and whether it carried an Authorization); faults:
 * `down` (connections are cut), and per-path `tamper` (the body's first
 * byte flipped, same length).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/** One relayed request. */
export interface RelayedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

/** A running relay. */
export interface Relay {
  url: string;
  requests: RelayedRequest[];
  /** Requests whose path matches `pattern` (and method, when given). */
  count(pattern: RegExp | string, method?: string): number;
  down(): void;
  up(): void;
  /** Flips the first byte of every answer for paths containing `path`. */
  tamper(path: string): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

/** Starts the relay in front of `target` (http://127.0.0.1:port). */
export async function startRelay(target: string): Promise<Relay> {
  const requests: RelayedRequest[] = [];
  let isDown = false;
  const tampered = new Set<string>();

  async function relay(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const authorization = req.headers.authorization;
    requests.push({ method: req.method ?? 'GET', path, authorization });
    if (isDown) {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
    const up = await request(`${target}${path}`, { method: (req.method ?? 'GET') as 'GET', headers });
    const body = Buffer.from(await up.body.arrayBuffer());
    if ([...tampered].some((t) => path.includes(t)) && body.length > 0) body[0] = (body[0] ?? 0) ^ 0xff;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(up.headers)) if (typeof v === 'string' && k !== 'connection' && k !== 'transfer-encoding' && k !== 'keep-alive') out[k] = v;
    res.writeHead(up.statusCode, out);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server: Server = createServer((req, res) => {
    relay(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const matches = (r: RelayedRequest, pattern: RegExp | string): boolean => (typeof pattern === 'string' ? r.path.includes(pattern) : pattern.test(r.path));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (pattern, method) => requests.filter((r) => matches(r, pattern) && (method === undefined || r.method === method)).length,
    down: () => {
      isDown = true;
    },
    up: () => {
      isDown = false;
    },
    tamper: (path) => tampered.add(path),
    clearFaults: () => {
      isDown = false;
      tampered.clear();
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
