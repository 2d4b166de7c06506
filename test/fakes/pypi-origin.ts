/**
 * A real PyPI on loopback for the `pypi` tests: an index host serving the
 * simple API (`/simple/<name>/`, PEP 503 HTML or PEP 691 JSON by Accept,
 * ETag / If-None-Match → 304) and PyPI's JSON API (`/pypi/<name>/json`),
 * plus a SEPARATE file host on another port (as files.pythonhosted.org)
 * serving the wheels, sdists and `.metadata` sidecars the test published
 * (pypi-packages.ts). A project may instead keep its files on the index
 * host behind relative links, and may be private (Basic credentials on
 * index and files). Every request is counted per host and path; faults per
 * host and path prefix: down (connection refused), a status, slow, wrong
 * bytes.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { originCertificate, startOriginListener, type OriginListener } from './origin-listener.js';
import { buildSdist, buildWheel, type Dist } from './pypi-packages.js';

/** The two hosts. */
export type PypiHost = 'index' | 'files';

/** A fault for the paths of a host it matches. */
export type PypiFault = { kind: 'status'; status: number } | { kind: 'slow'; ms: number } | { kind: 'corrupt' };

/** One request as the origin saw it. */
export interface PypiSeen {
  host: PypiHost;
  method: string;
  path: string;
  status: number;
  authorization: string | undefined;
  ifNoneMatch: string | undefined;
}

/** How a version is published. */
export interface PublishOptions {
  /** Files on the index host behind relative links (default: on the file host, absolute links). */
  relative?: boolean;
  /** Only clients sending `PRIVATE_AUTH` may read the project's index and files. */
  private?: boolean;
  yanked?: string;
  /** Also publish an sdist (default true). */
  sdist?: boolean;
}

/** The credential the origin accepts for private projects. */
export const PRIVATE_AUTH = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;

interface Release {
  version: string;
  dists: Dist[];
  opts: PublishOptions;
}

/** The running origin. */
export interface PypiOrigin {
  readonly indexUrl: string;
  readonly filesUrl: string;
  readonly caFile: string;
  readonly requests: readonly PypiSeen[];
  /** Publishes `name==version` (a wheel, and an sdist unless told otherwise). */
  publish(name: string, version: string, requires?: readonly string[], opts?: PublishOptions): Promise<Dist[]>;
  /** Requests to a host for an exact path (GET and HEAD). */
  count(host: PypiHost, path: string): number;
  /** Requests to a host whose path starts with `prefix`. */
  countPrefix(host: PypiHost, prefix: string): number;
  /** Conditional requests of an index path, and how many got 304. */
  conditional(path: string): { asked: number; notModified: number };
  /** The file host path (or index host path, for relative projects) of a dist. */
  pathOf(d: Dist): string;
  fault(host: PypiHost, prefix: string, fault: PypiFault | undefined): void;
  down(host?: PypiHost): Promise<void>;
  up(host?: PypiHost): Promise<void>;
  close(): Promise<void>;
}

const normalize = (n: string): string => n.toLowerCase().replace(/[-_.]+/g, '-');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Starts both hosts on random ports of 127.0.0.1 (HTTPS, one fresh CA). */
export async function startPypiOrigin(): Promise<PypiOrigin> {
  const { tls: cert, caFile } = await originCertificate('regcache pypi-origin CA');
  const projects = new Map<string, { name: string; releases: Release[] }>();
  /** host + path → body served there. */
  const blobs = new Map<string, { body: Buffer; private: boolean }>();
  const faults = new Map<string, PypiFault>();
  const requests: PypiSeen[] = [];
  const hosts: Partial<Record<PypiHost, OriginListener>> = {};

  const pathOf = (d: Dist): string => `/packages/${d.sha256.slice(0, 2)}/${d.sha256.slice(2, 4)}/${d.filename}`;

  function fileUrl(r: Release, d: Dist, fromIndexPath: boolean): string {
    if (r.opts.relative) return fromIndexPath ? `../..${pathOf(d)}` : `${hosts.index?.url ?? ''}${pathOf(d)}`;
    return `${hosts.files?.url ?? ''}${pathOf(d)}`;
  }

  function htmlPage(name: string, releases: Release[]): string {
    const links = releases.flatMap((r) =>
      r.dists.map((d) => {
        let attrs = ` href="${esc(`${fileUrl(r, d, true)}#sha256=${d.sha256}`)}" data-requires-python="${esc('>=3.7')}"`;
        if (r.opts.yanked !== undefined) attrs += ` data-yanked="${esc(r.opts.yanked)}"`;
        if (d.metadata) attrs += ` data-dist-info-metadata="sha256=${hex(d.metadata)}" data-core-metadata="sha256=${hex(d.metadata)}"`;
        return `    <a${attrs}>${esc(d.filename)}</a><br />`;
      }),
    );
    return `<!DOCTYPE html>\n<html>\n  <head><meta name="pypi:repository-version" content="1.1"><title>Links for ${esc(name)}</title></head>\n  <body>\n    <h1>Links for ${esc(name)}</h1>\n${links.join('\n')}\n  </body>\n</html>\n`;
  }

  function fileJson(r: Release, d: Dist): Record<string, unknown> {
    const f: Record<string, unknown> = { filename: d.filename, url: fileUrl(r, d, false), hashes: { sha256: d.sha256 }, 'requires-python': '>=3.7', size: d.body.length, 'upload-time': '2024-01-01T00:00:00.000000Z' };
    if (r.opts.yanked !== undefined) f.yanked = r.opts.yanked;
    if (d.metadata) f['core-metadata'] = { sha256: hex(d.metadata) };
    return f;
  }

  function jsonPage(name: string, releases: Release[]): string {
    return JSON.stringify({ meta: { 'api-version': '1.1' }, name, versions: releases.map((r) => r.version), files: releases.flatMap((r) => r.dists.map((d) => fileJson(r, d))) });
  }

  function apiJson(name: string, releases: Release[]): string {
    const entry = (r: Release, d: Dist) => ({ filename: d.filename, url: fileUrl(r, d, false), digests: { sha256: d.sha256 }, size: d.body.length, packagetype: d.filename.endsWith('.whl') ? 'bdist_wheel' : 'sdist' });
    const latest = releases[releases.length - 1];
    return JSON.stringify({
      info: { name, version: latest?.version ?? '' },
      urls: latest ? latest.dists.map((d) => entry(latest, d)) : [],
      releases: Object.fromEntries(releases.map((r) => [r.version, r.dists.map((d) => entry(r, d))])),
    });
  }

  const handler = (host: PypiHost) => (req: IncomingMessage, res: ServerResponse): void => {
    void handle(host, req, res);
  };

  async function handle(host: PypiHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const auth = req.headers.authorization;
    const seen: PypiSeen = { host, method: req.method ?? '', path, status: 0, authorization: auth, ifNoneMatch: req.headers['if-none-match'] };
    requests.push(seen);
    const send = (status: number, headers: Record<string, string>, body?: Buffer): void => {
      seen.status = status;
      res.writeHead(status, headers);
      res.end(body && req.method !== 'HEAD' ? body : undefined);
    };
    const fault = [...faults].find(([k]) => `${host}:${path}`.startsWith(k))?.[1];
    if (fault?.kind === 'slow') await sleep(fault.ms);
    if (fault?.kind === 'status') return send(fault.status, { 'content-type': 'text/plain' }, Buffer.from('injected\n'));
    const denied = (): void => send(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="pypi"' }, Buffer.from('credentials needed\n'));

    const blob = blobs.get(`${host}:${path}`);
    if (blob) {
      if (blob.private && auth !== PRIVATE_AUTH) return denied();
      const body = fault?.kind === 'corrupt' ? Buffer.from(blob.body) : blob.body;
      if (fault?.kind === 'corrupt') body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0xff;
      return send(200, { 'content-type': 'application/octet-stream', etag: `"${hex(blob.body).slice(0, 16)}"`, 'content-length': String(body.length) }, body);
    }
    const simple = /^\/simple\/([^/]+)\/$/.exec(path);
    const api = /^\/pypi\/([^/]+)\/json$/.exec(path);
    const name = host === 'index' ? (simple?.[1] ?? api?.[1]) : undefined;
    const project = name === undefined ? undefined : projects.get(normalize(name));
    if (name === undefined || !project) return send(404, { 'content-type': 'text/plain' }, Buffer.from('not found\n'));
    if (normalize(name) !== name) return send(301, { location: `/simple/${normalize(name)}/` });
    if (project.releases.some((r) => r.opts.private) && auth !== PRIVATE_AUTH) return denied();
    let body: string;
    let type: string;
    if (api) {
      body = apiJson(project.name, project.releases);
      type = 'application/json';
    } else if ((req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json')) {
      body = jsonPage(project.name, project.releases);
      type = 'application/vnd.pypi.simple.v1+json';
    } else {
      body = htmlPage(project.name, project.releases);
      type = 'application/vnd.pypi.simple.v1+html';
    }
    const etag = `"${hex(Buffer.from(body)).slice(0, 20)}"`;
    if (req.headers['if-none-match'] === etag) return send(304, { etag });
    send(200, { 'content-type': type, etag, vary: 'Accept' }, Buffer.from(body));
  }

  hosts.index = await startOriginListener(cert, handler('index'));
  hosts.files = await startOriginListener(cert, handler('files'));
  const both = (h?: PypiHost): OriginListener[] => (h ? [hosts[h] as OriginListener] : [hosts.index as OriginListener, hosts.files as OriginListener]);

  return {
    indexUrl: hosts.index.url,
    filesUrl: hosts.files.url,
    caFile,
    requests,
    async publish(name, version, requires = [], opts = {}) {
      const dists = [await buildWheel(name, version, requires)];
      if (opts.sdist !== false) dists.push(buildSdist(name, version, requires));
      const host: PypiHost = opts.relative ? 'index' : 'files';
      for (const d of dists) {
        blobs.set(`${host}:${pathOf(d)}`, { body: d.body, private: opts.private === true });
        if (d.metadata) blobs.set(`${host}:${pathOf(d)}.metadata`, { body: d.metadata, private: opts.private === true });
      }
      const key = normalize(name);
      const p = projects.get(key) ?? { name, releases: [] };
      p.releases.push({ version, dists, opts });
      projects.set(key, p);
      return dists;
    },
    count: (host, path) => requests.filter((r) => r.host === host && r.path === path).length,
    countPrefix: (host, prefix) => requests.filter((r) => r.host === host && r.path.startsWith(prefix)).length,
    conditional(path) {
      const asked = requests.filter((r) => r.host === 'index' && r.path === path && r.ifNoneMatch !== undefined);
      return { asked: asked.length, notModified: asked.filter((r) => r.status === 304).length };
    },
    pathOf,
    fault(host, prefix, fault) {
      if (fault) faults.set(`${host}:${prefix}`, fault);
      else faults.delete(`${host}:${prefix}`);
    },
    async down(h) {
      for (const l of both(h)) await l.down();
    },
    async up(h) {
      for (const l of both(h)) await l.up();
    },
    async close() {
      for (const l of both()) await l.down();
    },
  };
}
