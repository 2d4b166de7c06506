/**
 * A real HTTPS fake of registry.terraform.io (and optionally a CDN for its
 * files) that regcache's tests start themselves: real zips, SHA256SUMS and
 * OpenPGP signatures, a request log, and faults that can be switched on and
 * off while requests are in flight.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCa, issueServerCert } from '../../src/http/self-signed.js';
import { generateSigningKey } from '../support/provider-fixtures.js';
import { createOriginCatalog, platformKey } from './origin-catalog.js';
import { createFaultTable, matchesPath, type ActiveFault } from './origin-faults.js';
import { startOriginListener, type OriginListener } from './origin-listener.js';
import { createOriginRouter, errorReply } from './origin-routes.js';
import { sendReply, sleep, untilReleased, type Reply } from './origin-send.js';
import type { OriginListenerName, OriginOptions, OriginRegistry, OriginRequest } from './origin-types.js';

export type * from './origin-types.js';

const MALFORMED_JSON = '{"versions":[{"version":"1.0.0","protocols":';

/**
 * Starts the fake origin on a random port of 127.0.0.1 with a fresh CA and
 * signing key. Call `stop()` when done so the test process can exit.
 */
export async function startOriginRegistry(opts: OriginOptions = {}): Promise<OriginRegistry> {
  const ca = await generateCa('regcache test origin CA');
  const tls = await issueServerCert(ca, ['127.0.0.1', 'localhost', '::1']);
  const signingKey = await generateSigningKey();
  const tmp = await mkdtemp(join(tmpdir(), 'regcache-origin-'));
  const caFile = join(tmp, 'ca.pem');
  await writeFile(caFile, ca.certPem);

  const catalog = createOriginCatalog(signingKey);
  const faults = createFaultTable();
  const requests: OriginRequest[] = [];
  const lifetime = new AbortController();
  let cdn: OriginListener | undefined;
  const router = createOriginRouter(catalog, signingKey, () => cdn?.url ?? '');

  /** Applies request-level faults; returns the fault left for the body, or null when already answered. */
  async function preRoute(
    path: string,
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<ActiveFault | undefined | null> {
    for (;;) {
      const active = faults.find(path);
      if (active === undefined) return undefined;
      const f = active.fault;
      switch (f.kind) {
        case 'hang':
          if (!(await untilReleased(active.released, signal))) return null;
          continue;
        case 'delay':
          return (await sleep(f.ms, signal)) ? undefined : null;
        case 'status': {
          const reply = errorReply(f.status, `injected status ${f.status}`);
          if (f.retryAfter !== undefined) reply.headers['retry-after'] = String(f.retryAfter);
          res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
          res.end(reply.body);
          return null;
        }
        case 'redirect':
          res.writeHead(302, { location: f.location, 'content-length': '0' });
          res.end();
          return null;
        case 'malformedJson':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MALFORMED_JSON.length) });
          res.end(MALFORMED_JSON);
          return null;
        default:
          return active;
      }
    }
  }

  async function tamper(reply: Reply, fault: ActiveFault | undefined): Promise<Reply> {
    if (fault?.fault.kind === 'inconsistentDownload' && reply.status === 200 && reply.file === undefined) {
      const answer = JSON.parse(reply.body.toString('utf8')) as { shasum?: string };
      if (typeof answer.shasum === 'string') return { ...reply, body: Buffer.from(JSON.stringify({ ...answer, shasum: 'f'.repeat(64) })) };
    }
    const file = reply.file;
    if (file === undefined || fault === undefined) return reply;
    if (fault.fault.kind === 'wrongShasum' && file.zipOptions !== undefined) {
      return { ...reply, body: await catalog.tamperedZip(file) };
    }
    if (fault.fault.kind === 'badSignature' && file.signedBytes !== undefined) {
      return { ...reply, body: await catalog.rogueSignature(file) };
    }
    return reply;
  }

  async function serve(server: OriginListenerName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://origin.invalid').pathname;
    const method = req.method ?? 'GET';
    const authorization = req.headers.authorization;
    const auth = authorization === undefined ? {} : { authorization };
    requests.push({ method, path, time: Date.now(), server, ...auth });
    req.resume();
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const signal = AbortSignal.any([closed.signal, lifetime.signal]);

    if (opts.latencyMs !== undefined && !(await sleep(opts.latencyMs, signal))) return;
    const fault = await preRoute(path, res, signal);
    if (fault === null) return;
    if (method !== 'GET' && method !== 'HEAD') {
      const reply = errorReply(405, 'Method Not Allowed');
      reply.headers.allow = 'GET, HEAD';
      await sendReply(res, reply, { head: false, fault: undefined, bytesPerSecond: undefined, signal });
      return;
    }
    const reply = await tamper(router({ path, authorization, server }), fault);
    if (signal.aborted) return;
    await sendReply(res, reply, { head: method === 'HEAD', fault, bytesPerSecond: opts.bytesPerSecond, signal });
  }

  const handler =
    (server: OriginListenerName) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      serve(server, req, res).catch(() => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const reply = errorReply(500, 'fake origin failed');
        res.writeHead(500, { ...reply.headers, 'content-length': String(reply.body.length) });
        res.end(reply.body);
      });
    };

  if (opts.cdn === true) cdn = await startOriginListener(tls, handler('cdn'));
  const origin = await startOriginListener(tls, handler('origin'));
  const listener = (name: OriginListenerName = 'origin'): OriginListener => {
    if (name === 'origin') return origin;
    if (cdn === undefined) throw new Error('the fake origin was started without cdn: true');
    return cdn;
  };

  return {
    url: origin.url,
    host: `127.0.0.1:${origin.port}`,
    cdnUrl: cdn?.url,
    caPem: ca.certPem,
    caFile,
    signingKey,
    requests,
    addProvider: (spec) => catalog.addProvider(spec),
    addModule: (spec) => catalog.addModule(spec),

    zipBytes(namespace, type, version, os, arch) {
      const zip = catalog.provider(namespace, type)?.versions.get(version)?.zips.get(platformKey(os, arch));
      const file = zip === undefined ? undefined : catalog.file(zip.path);
      if (file === undefined) throw new Error(`fake origin has no zip for ${namespace}/${type} ${version} ${os}_${arch}`);
      return file.bytes;
    },

    count(path, method) {
      const wanted = method?.toUpperCase();
      return requests.filter((r) => matchesPath(path, r.path) && (wanted === undefined || r.method === wanted)).length;
    },

    reset() {
      requests.length = 0;
    },

    setFault: (match, fault) => faults.set(match, fault),
    clearFaults: () => faults.clear(),
    down: (name) => listener(name).down(),
    up: (name) => listener(name).up(),

    async stop() {
      lifetime.abort();
      faults.clear();
      await Promise.all([origin.down(), cdn?.down()]);
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
