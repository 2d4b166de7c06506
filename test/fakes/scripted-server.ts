/**
 * A plain-HTTP loopback server answering scripted routes, counting every
 * connection, request and body byte it sends. It plays the parts the fake
 * origin registry cannot: a hostile registry (download URLs and module
 * locations pointing anywhere), an "internal" stand-in that must never be
 * reached (listening on 127.0.0.2 or ::1, addresses the test policy does not
 * allow), a download host an upstream merely names, and a slow-drip
 * upstream that keeps a body going without ever falling silent.
 */
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One scripted answer. */
export interface ScriptedAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Sends the body `bytes` at a time, one piece every `everyMs` (Content-Length announced up front). */
  drip?: { bytes: number; everyMs: number };
}

/** What one response did. */
export interface SentRecord {
  path: string;
  /** Body bytes written before the response ended or the connection closed. */
  bodyBytes: number;
  /** Whether the whole body was written. */
  finished: boolean;
  /** Whether the response is over (finished, or its connection closed). */
  closed: boolean;
}

/** A running scripted server. */
export interface ScriptedServer {
  /** `http://host:port` (IPv6 hosts in brackets). */
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  /** One record per answered request, filled in when its response closed. */
  readonly sent: SentRecord[];
  /** Sets the answer for an exact path (query ignored); unknown paths answer 404. */
  route(path: string, answer: ScriptedAnswer): void;
  stop(): Promise<void>;
}

async function send(res: ServerResponse, answer: ScriptedAnswer, record: SentRecord): Promise<void> {
  const body = Buffer.from(answer.body ?? '');
  res.writeHead(answer.status ?? 200, { 'content-length': String(body.length), ...answer.headers });
  const drip = answer.drip;
  if (drip === undefined) {
    res.end(body, () => {
      record.bodyBytes = body.length;
      record.finished = true;
    });
    return;
  }
  for (let at = 0; at < body.length && !res.destroyed; at += drip.bytes) {
    const piece = body.subarray(at, at + drip.bytes);
    res.write(piece);
    record.bodyBytes += piece.length;
    await new Promise((resolve) => setTimeout(resolve, drip.everyMs));
  }
  if (!res.destroyed) res.end(() => (record.finished = true));
}

/** Starts a scripted server on `host` (default 127.0.0.1) and a random port. */
export async function startScriptedServer(host = '127.0.0.1'): Promise<ScriptedServer> {
  const routes = new Map<string, ScriptedAnswer>();
  const requests: string[] = [];
  const sent: SentRecord[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://scripted.invalid').pathname;
    requests.push(path);
    req.resume();
    const record: SentRecord = { path, bodyBytes: 0, finished: false, closed: false };
    sent.push(record);
    res.on('close', () => (record.closed = true));
    const answer = routes.get(path) ?? { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":["Not Found"]}' };
    send(res, answer, record).catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    connections: () => connections,
    requests,
    sent,
    route: (path, answer) => routes.set(path, answer),
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A provider as a hostile registry publishes it. */
export interface ScriptedProvider {
  namespace: string;
  type: string;
  version: string;
  os: string;
  arch: string;
  filename: string;
  /** sha256 hex the registry announces (and lists in its SHA256SUMS). */
  sha256: string;
  /** Where the registry says the zip is; anything at all. */
  downloadUrl: string;
}

/**
 * Scripts `server` as a Terraform registry (discovery, versions, one
 * download answer, an unsigned SHA256SUMS) for one provider; the upstream
 * must be configured `unsigned: allow`.
 */
export function scriptRegistryProvider(server: ScriptedServer, p: ScriptedProvider): void {
  const json = (value: unknown): ScriptedAnswer => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
  const base = `/v1/providers/${p.namespace}/${p.type}`;
  server.route('/.well-known/terraform.json', json({ 'providers.v1': '/v1/providers/', 'modules.v1': '/v1/modules/' }));
  server.route(`${base}/versions`, json({ versions: [{ version: p.version, protocols: ['5.0'], platforms: [{ os: p.os, arch: p.arch }] }] }));
  server.route(
    `${base}/${p.version}/download/${p.os}/${p.arch}`,
    json({
      protocols: ['5.0'],
      os: p.os,
      arch: p.arch,
      filename: p.filename,
      download_url: p.downloadUrl,
      shasums_url: '/sums/SHA256SUMS',
      shasums_signature_url: '/sums/SHA256SUMS.sig',
      shasum: p.sha256,
      signing_keys: { gpg_public_keys: [] },
    }),
  );
  server.route('/sums/SHA256SUMS', { body: `${p.sha256}  ${p.filename}\n` });
}
