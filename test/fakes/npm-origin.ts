/**
 * A real npm registry on loopback (HTTP, or HTTPS with a fresh CA) for the
 * npm mode's tests and benchmarks: generated packages (npm-packages.ts)
 * served as full or abbreviated packuments (chosen by Accept, as
 * registry.npmjs.org does), dist-tags, and tarballs whose URLs name the
 * origin's own host. ETag / If-None-Match and Last-Modified /
 * If-Modified-Since are answered 304. A private scope needs a bearer token.
 * Every request is logged (counts per path, conditional requests, bytes
 * sent), and faults are switched on and off at run time: down, any status,
 * stall, slow, held mid-body, truncated, wrong bytes, and a new version
 * appearing (`publish`).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { abbreviatedPackument, buildVersion, fullPackument, type NpmBuiltVersion, type NpmPackageSpec, type NpmVersionSpec } from './npm-packages.js';
import { originCertificate, startOriginListener } from './origin-listener.js';

export { generateNpmPackages, projectManifest, tarballPath, type NpmPackageSpec } from './npm-packages.js';

/** The abbreviated packument's media type. */
export const CORGI = 'application/vnd.npm.install-v1+json';

/** The packages every origin starts with unless told otherwise. */
export const DEFAULT_NPM_PACKAGES: readonly NpmPackageSpec[] = [
  { name: 'lite-pad', versions: [{ version: '1.0.0' }, { version: '1.1.0' }] },
  { name: 'chain-a', versions: [{ version: '1.0.0', dependencies: { 'chain-b': '^1.0.0' } }] },
  { name: 'chain-b', versions: [{ version: '1.0.0', dependencies: { 'chain-c': '^1.0.0' } }] },
  { name: 'chain-c', versions: [{ version: '1.0.0' }] },
  { name: '@acme/widget', versions: [{ version: '2.0.0', dependencies: { 'chain-c': '^1.0.0' } }] },
  { name: 'old-sha1', versions: [{ version: '0.1.0' }], shasumOnly: true },
  { name: '@private/secret', versions: [{ version: '1.0.0' }] },
];

/** A fault for the (decoded) paths it matches by prefix. */
export type NpmFault =
  | { kind: 'status'; status: number }
  | { kind: 'stall' }
  | { kind: 'slow'; bytesPerSecond: number }
  | { kind: 'hold'; after: number }
  | { kind: 'truncate'; after: number }
  /** Same length and headers, one byte changed. */
  | { kind: 'corrupt' };

/** One request as the origin saw it (path decoded: `/@acme/widget`). */
export interface NpmSeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
}

/** Options of `startNpmOrigin`. */
export interface NpmOriginOptions {
  tls?: boolean;
  packages?: readonly NpmPackageSpec[];
  /** Scopes whose packuments and tarballs need `Authorization: Bearer <token>` (default ['@private']). */
  privateScopes?: readonly string[];
  token?: string;
  /** Status for a private package without a valid token (default 401). */
  deniedStatus?: number;
  /** Base URL the packuments' tarball URLs name instead of this origin's own (a separate file host). */
  tarballBase?: string;
}

/** The running origin. */
export interface NpmOrigin {
  readonly url: string;
  readonly caFile: string | undefined;
  readonly token: string;
  readonly requests: readonly NpmSeenRequest[];
  /** Adds a version (a new version appearing): becomes `latest`, the packument's ETag and Last-Modified change. */
  publish(name: string, spec: NpmVersionSpec): NpmBuiltVersion;
  /** A published version (tarball bytes, integrity, path). */
  version(name: string, version: string): NpmBuiltVersion;
  /** Every published version of every package. */
  allVersions(): NpmBuiltVersion[];
  /** GET requests (any status) for an exact decoded path. */
  count(path: string, method?: string): number;
  /** GET requests of tarballs (paths ending in .tgz), optionally only under `prefix`. */
  tarballRequests(prefix?: string): number;
  /** GET requests of packuments (and dist-tags). */
  packumentRequests(): number;
  /** Conditional GETs of `path` and how many were answered 304. */
  conditional(path: string): { asked: number; notModified: number };
  /** Body bytes sent so far. */
  bytesSent(): number;
  fault(prefix: string, fault: NpmFault | undefined): void;
  /** Resolves once `n` requests of `path` have had their headers sent. */
  seen(path: string, n?: number): Promise<void>;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Pkg {
  name: string;
  versions: NpmBuiltVersion[];
  created: Date;
  modified: Date;
  rev: number;
  shasumOnly: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the origin on a random port of 127.0.0.1. */
export async function startNpmOrigin(opts: NpmOriginOptions = {}): Promise<NpmOrigin> {
  const token = opts.token ?? 'npm-origin-token';
  const privateScopes = opts.privateScopes ?? ['@private'];
  const pkgs = new Map<string, Pkg>();
  const tarballs = new Map<string, NpmBuiltVersion>();
  const faults = new Map<string, { fault: NpmFault; release: () => void; released: Promise<void> }>();
  const requests: NpmSeenRequest[] = [];
  const waiters: Array<() => void> = [];
  let sent = 0;
  let clock = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
  // Last-Modified has second precision: every change is at least a second after the one before.
  const tick = (): Date => new Date((clock = Math.max(Math.floor(Date.now() / 1000) * 1000, clock + 1000)));

  const publish = (name: string, spec: NpmVersionSpec, shasumOnly = false): NpmBuiltVersion => {
    const at = tick();
    const built = buildVersion(name, spec, at);
    const pkg = pkgs.get(name) ?? { name, versions: [], created: at, modified: at, rev: 0, shasumOnly };
    pkg.versions = [...pkg.versions.filter((v) => v.version !== spec.version), built];
    pkg.modified = at;
    pkg.rev++;
    pkgs.set(name, pkg);
    tarballs.set(built.path, built);
    return built;
  };
  for (const p of opts.packages ?? DEFAULT_NPM_PACKAGES) for (const v of p.versions) publish(p.name, v, p.shasumOnly === true);

  let base = '';
  const isPrivate = (path: string): boolean => privateScopes.some((s) => path.startsWith(`/${s}/`));
  const faultFor = (path: string) => [...faults].find(([prefix]) => path.startsWith(prefix))?.[1];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const seen: NpmSeenRequest = { method: req.method ?? '', path, headers: req.headers, status: 0 };
    requests.push(seen);
    const send = (status: number, headers: Record<string, string>, body?: Buffer): void => {
      seen.status = status;
      res.writeHead(status, body ? { ...headers, 'content-length': String(body.length) } : headers);
      for (const w of waiters.splice(0)) w();
      if (body && req.method !== 'HEAD') {
        sent += body.length;
        res.end(body);
      } else res.end();
    };
    const json = (status: number, value: unknown): void => send(status, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(value)));
    const f = faultFor(path);
    if (f?.fault.kind === 'stall') {
      await f.released;
      res.destroy();
      return;
    }
    if (f?.fault.kind === 'status') return json(f.fault.status, { error: `injected ${f.fault.status}` });
    if (isPrivate(path) && req.headers.authorization !== `Bearer ${token}`) return json(opts.deniedStatus ?? 401, { error: 'authentication required' });

    let body: Buffer;
    let headers: Record<string, string>;
    let validator: { etag: string; modified: Date } | undefined;
    const tgz = tarballs.get(path);
    const tags = /^\/-\/package\/(.+)\/dist-tags$/.exec(path);
    if (tgz) {
      body = tgz.tarball;
      headers = { 'content-type': 'application/octet-stream' };
      validator = { etag: `"${tgz.shasum}"`, modified: tgz.published };
    } else if (tags) {
      const pkg = pkgs.get(tags[1] ?? '');
      if (!pkg) return json(404, { error: 'not found' });
      body = Buffer.from(JSON.stringify(distTags(pkg)));
      headers = { 'content-type': 'application/json' };
    } else {
      const pkg = pkgs.get(path.slice(1));
      if (!pkg) return json(404, { error: 'not found' });
      const corgi = String(req.headers.accept ?? '').includes(CORGI);
      const input = { name: pkg.name, versions: pkg.versions, distTags: distTags(pkg), created: pkg.created, modified: pkg.modified, shasumOnly: pkg.shasumOnly };
      body = Buffer.from(JSON.stringify(corgi ? abbreviatedPackument(input, opts.tarballBase ?? base) : fullPackument(input, opts.tarballBase ?? base)));
      headers = { 'content-type': corgi ? CORGI : 'application/json', vary: 'Accept' };
      validator = { etag: `"${pkg.name}-${pkg.rev}-${corgi ? 'corgi' : 'full'}"`, modified: pkg.modified };
    }
    if (validator) {
      headers.etag = validator.etag;
      headers['last-modified'] = validator.modified.toUTCString();
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      if (inm !== undefined ? inm === validator.etag : ims !== undefined && Date.parse(ims) >= validator.modified.getTime()) return send(304, headers);
    }
    if (req.method === 'HEAD' || !f) return send(200, headers, body);
    seen.status = 200;
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    for (const w of waiters.splice(0)) w();
    await faulty(res, body, f);
  }

  async function faulty(res: ServerResponse, body: Buffer, f: { fault: NpmFault; released: Promise<void> }): Promise<void> {
    const fault = f.fault;
    if (fault.kind === 'corrupt') {
      const bad = Buffer.from(body);
      bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
      sent += bad.length;
      res.end(bad);
    } else if (fault.kind === 'truncate') {
      sent += Math.min(fault.after, body.length);
      res.write(body.subarray(0, fault.after), () => res.destroy());
    } else if (fault.kind === 'hold') {
      res.write(body.subarray(0, fault.after));
      await f.released;
      res.end(body.subarray(fault.after));
      sent += body.length;
    } else if (fault.kind === 'slow') {
      const step = Math.max(1, Math.floor(fault.bytesPerSecond / 20));
      for (let off = 0; off < body.length && !res.destroyed; off += step) {
        res.write(body.subarray(off, off + step));
        await sleep(50);
      }
      sent += body.length;
      res.end();
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => res.destroy());
  };
  const cert = opts.tls ? await originCertificate('regcache npm-origin CA') : undefined;
  const origin = await startOriginListener(cert?.tls, listener);
  const caFile = cert?.caFile;
  const down = (): Promise<void> => origin.down();
  base = origin.url;
  const gets = (test: (r: NpmSeenRequest) => boolean): number => requests.filter((r) => r.method === 'GET' && test(r)).length;

  return {
    url: base,
    caFile,
    token,
    requests,
    publish: (name, spec) => publish(name, spec, pkgs.get(name)?.shasumOnly ?? false),
    version(name, version) {
      const v = pkgs.get(name)?.versions.find((x) => x.version === version);
      if (!v) throw new Error(`npm-origin: no ${name}@${version}`);
      return v;
    },
    allVersions: () => [...tarballs.values()],
    count: (path, method = 'GET') => requests.filter((r) => r.path === path && r.method === method).length,
    tarballRequests: (prefix = '/') => gets((r) => r.path.startsWith(prefix) && r.path.endsWith('.tgz')),
    packumentRequests: () => gets((r) => !r.path.endsWith('.tgz')),
    conditional(path) {
      const asked = requests.filter((r) => r.path === path && (r.headers['if-none-match'] !== undefined || r.headers['if-modified-since'] !== undefined));
      return { asked: asked.length, notModified: asked.filter((r) => r.status === 304).length };
    },
    bytesSent: () => sent,
    fault(prefix, fault) {
      faults.get(prefix)?.release();
      faults.delete(prefix);
      if (!fault) return;
      let release = (): void => undefined;
      const released = new Promise<void>((r) => {
        release = r;
      });
      faults.set(prefix, { fault, release, released });
    },
    async seen(path, n = 1) {
      while (requests.filter((r) => r.path === path && r.status !== 0).length < n) await new Promise<void>((r) => waiters.push(r));
    },
    down,
    up: () => origin.up(),
    async close() {
      for (const f of faults.values()) f.release();
      await down();
    },
  };
}

function distTags(pkg: Pkg): Record<string, string> {
  return { latest: pkg.versions[pkg.versions.length - 1]?.version ?? '0.0.0' };
}

/** sha512 integrity string of some bytes (`sha512-<base64>`). */
export function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}
