/**
 * A counting, fault-injecting HTTP relay in front of the test registry
 * (regcache's configured upstream): `/token` goes to the token server,
 * everything else to the registry. It records every request (method,
 * path, whether it carried an Authorization) and can be `down` (sockets
 * destroyed), `tamper` blob bodies (one byte changed, same length) or
 * `hold` blob answers until released (so parallel clients meet one cold
 * download).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One relayed request. */
export interface RelayedRequest {
  method: string;
  path: string;
  authorized: boolean;
  /** The Authorization sent, to check that no client's credential ever arrives. */
  authorization: string | undefined;
  /** The registry's status, once it answered (0 before, or when down). */
  status: number;
}

/** A running relay. */
export interface OciRelay {
  url: string;
  host: string;
  /** Where non-token requests go (set once the registry runs). */
  target: string;
  tokenTarget: string;
  down: boolean;
  tamper: boolean;
  /** Answers given by the relay itself for these paths (an endpoint the registry lacks, e.g. referrers). */
  readonly canned: Map<string, { status: number; headers: Record<string, string>; body: Buffer }>;
  readonly log: readonly RelayedRequest[];
  /** Requests matching `method` and `path` (a RegExp over the path), and `status` when given (200: downloads, not 401 challenges). */
  count(method: string, path: RegExp, status?: number): number;
  /** Holds blob GET answers until the returned function is called; `arrived` resolves at the first held one. */
  hold(): { release(): void; arrived: Promise<void> };
  close(): Promise<void>;
}

function forward(target: string, req: IncomingMessage, res: ServerResponse, entry: RelayedRequest, edit: ((body: Buffer) => Buffer) | undefined, gate: Promise<void> | undefined): void {
  const u = new URL(req.url ?? '/', target);
  const headers = { ...req.headers, host: req.headers.host ?? u.host };
  const out = request(u, { method: req.method, headers }, (up) => {
    entry.status = up.statusCode ?? 0;
    void (async () => {
      if (gate) await gate;
      if (!edit) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of up) chunks.push(c as Buffer);
      res.writeHead(up.statusCode ?? 502, up.headers);
      res.end(edit(Buffer.concat(chunks)));
    })();
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
}

const BLOB = /^\/v2\/.+\/blobs\/sha(256|512):[a-f0-9]+$/;

/** Starts the relay; `tokenTarget` is the token server's URL. */
export async function startOciRelay(tokenTarget: string): Promise<OciRelay> {
  const log: RelayedRequest[] = [];
  const cannedAnswers: OciRelay['canned'] = new Map();
  let gate: { promise: Promise<void>; release: () => void; arrived: () => void } | undefined;
  const state = { target: '', tokenTarget, down: false, tamper: false };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: RelayedRequest = { method: req.method ?? '', path, authorized: req.headers.authorization !== undefined, authorization: req.headers.authorization, status: 0 };
    log.push(entry);
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const canned = cannedAnswers.get(path);
    if (canned) {
      entry.status = canned.status;
      res.writeHead(canned.status, { ...canned.headers, 'content-length': String(canned.body.length) }).end(req.method === 'HEAD' ? undefined : canned.body);
      return;
    }
    if (path === '/token') {
      forward(state.tokenTarget, req, res, entry, undefined, undefined);
      return;
    }
    const blobGet = req.method === 'GET' && BLOB.test(path);
    const edit = blobGet && state.tamper ? (b: Buffer): Buffer => {
      const c = Buffer.from(b);
      if (c.length > 0) c[c.length - 1] = (c[c.length - 1] ?? 0) ^ 0xff;
      return c;
    } : undefined;
    if (blobGet && gate) gate.arrived();
    forward(state.target, req, res, entry, edit, blobGet ? gate?.promise : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    get target() {
      return state.target;
    },
    set target(v: string) {
      state.target = v;
    },
    get tokenTarget() {
      return state.tokenTarget;
    },
    set tokenTarget(v: string) {
      state.tokenTarget = v;
    },
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    get tamper() {
      return state.tamper;
    },
    set tamper(v: boolean) {
      state.tamper = v;
    },
    log,
    canned: cannedAnswers,
    count: (method, path, status) => log.filter((r) => r.method === method && path.test(r.path) && (status === undefined || r.status === status)).length,
    hold() {
      let release = (): void => undefined;
      let arrived = (): void => undefined;
      const promise = new Promise<void>((r) => (release = r));
      const arrival = new Promise<void>((r) => (arrived = r));
      gate = { promise, release, arrived };
      return {
        release: () => {
          gate = undefined;
          release();
        },
        arrived: arrival,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
