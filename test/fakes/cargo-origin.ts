/**
 * A real Cargo sparse registry on loopback for the `cargo` mode's tests:
 * an index host serving `config.json` and index files (`1/<n>`, `2/<n>`,
 * `3/<c>/<n>`, `<ab>/<cd>/<name>`) with ETag / Last-Modified and 304s, and
 * a SEPARATE download host (another port, named by config.json's `dl`
 * template) serving generated `.crate` files: gzip tarballs holding
 * `<name>-<version>/Cargo.toml` and `src/lib.rs`, whose sha-256 is the
 * index line's `cksum`. Crates may depend on each other (a dependency
 * chain) and be private (index and download answer 401 without the
 * registry token). Every request is logged per host and path; faults
 * (down, any status, slow, wrong bytes) are switched on by path prefix
 * while the servers run; `publish` makes a new version appear.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeTarGz } from './tar-gz.js';
import { originCertificate, startOriginListener } from './origin-listener.js';

/** A fault for request paths starting with a prefix (on either host). */
export type CargoFault = { kind: 'status'; status: number } | { kind: 'slow'; bytesPerSecond: number } | { kind: 'corrupt' };

/** One request as a host saw it. */
export interface CargoSeen {
  host: 'index' | 'dl';
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
}

/** A published crate version. */
export interface CrateVersion {
  name: string;
  vers: string;
  crate: Buffer;
  cksum: string;
  deps: Array<{ name: string; req: string }>;
  private: boolean;
}

/** The running registry. */
export interface CargoOrigin {
  /** The index base URL (configure it as `upstream`). */
  readonly url: string;
  /** The download host's base URL. */
  readonly dlUrl: string;
  /** CA of both hosts' certificates (PEM file), when TLS. */
  readonly caFile: string | undefined;
  readonly requests: readonly CargoSeen[];
  /** Publishes a version (a new index line: new ETag); `deps` are `name@req` pairs. */
  publish(name: string, vers: string, opts?: { deps?: Array<{ name: string; req: string }>; private?: boolean }): CrateVersion;
  /** The index path of a crate ("/3/f/foo"). */
  indexPath(name: string): string;
  /** The download path of a version on the dl host. */
  dlPath(name: string, vers: string): string;
  /** Requests on `host` for exactly `path` (GET). */
  count(host: 'index' | 'dl', path: string): number;
  /** Conditional requests for `path` (on `host`, default the index host) and how many were answered 304. */
  conditional(path: string, host?: 'index' | 'dl'): { asked: number; notModified: number };
  /** Resolves once `host` has seen at least `n` requests for `path`. */
  seen(host: 'index' | 'dl', path: string, n?: number): Promise<void>;
  /** Installs (or clears with undefined) a fault for paths starting with `prefix`. */
  fault(prefix: string, fault: CargoFault | undefined): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Options: TLS, the registry token for private crates, where `dl` points. */
export interface CargoOriginOptions {
  tls?: boolean;
  token?: string;
  /** `dl` on the index host itself (private registries), instead of the separate download host. */
  dlOnIndexHost?: boolean;
  /** A `dl` without markers (cargo then appends `/{crate}/{version}/download`). */
  plainDl?: boolean;
  /** The path part of a `dl` template with markers (default `/crates/{lowerprefix}/{crate}/{crate}-{version}.crate`). */
  dlTemplate?: string;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** cargo's `{prefix}` of a name (case kept). */
function prefixOf(name: string): string {
  if (name.length === 1) return '1';
  if (name.length === 2) return '2';
  if (name.length === 3) return `3/${name[0] ?? ''}`;
  return `${name.slice(0, 2)}/${name.slice(2, 4)}`;
}

/** A real `.crate`: a gzip tarball of `<name>-<vers>/Cargo.toml` and `src/lib.rs`. */
export function makeCrate(name: string, vers: string, deps: ReadonlyArray<{ name: string; req: string }>): Buffer {
  const toml = [
    '[package]',
    `name = "${name}"`,
    `version = "${vers}"`,
    'edition = "2021"',
    `description = "fake crate ${name}"`,
    'license = "MIT"',
    '',
    '[dependencies]',
    ...deps.map((d) => `${d.name} = "${d.req}"`),
    '',
  ].join('\n');
  const lib = `pub fn version() -> &'static str { "${name} ${vers}" }\n`;
  const dir = `${name}-${vers}`;
  return makeTarGz([
    { name: `${dir}/Cargo.toml`, content: Buffer.from(toml) },
    { name: `${dir}/src/lib.rs`, content: Buffer.from(lib) },
  ]);
}

/** Starts both hosts on random ports of 127.0.0.1. */
export async function startCargoOrigin(opts: CargoOriginOptions = {}): Promise<CargoOrigin> {
  const crates = new Map<string, CrateVersion[]>();
  const files = new Map<string, { body: Buffer; etag: string; modified: Date; private: boolean }>();
  const downloads = new Map<string, CrateVersion>();
  const faults = new Map<string, CargoFault>();
  const requests: CargoSeen[] = [];
  let lastModified = 0;
  /** The two hosts' base URLs, known once they listen. */
  const urls = { index: '', dl: '' };
  const indexPath = (name: string): string => `/${prefixOf(name.toLowerCase())}/${name.toLowerCase()}`;
  const template = opts.dlTemplate ?? '/crates/{lowerprefix}/{crate}/{crate}-{version}.crate';
  const cksums = new Map<string, string>();
  const dlPath = (name: string, vers: string): string =>
    opts.plainDl
      ? `/api/v1/crates/${name}/${vers}/download`
      : template
          .replaceAll('{crate}', name)
          .replaceAll('{version}', vers)
          .replaceAll('{prefix}', prefixOf(name))
          .replaceAll('{lowerprefix}', prefixOf(name).toLowerCase())
          .replaceAll('{sha256-checksum}', cksums.get(`${name}@${vers}`) ?? '');

  function configJson(): Buffer {
    const base = opts.dlOnIndexHost ? urls.index : urls.dl;
    const dl = opts.plainDl ? `${base}/api/v1/crates` : `${base}${template}`;
    return Buffer.from(JSON.stringify({ dl, api: urls.index, ...(opts.token !== undefined ? { 'auth-required': false } : {}) }));
  }

  function setIndex(lname: string): void {
    const versions = crates.get(lname) ?? [];
    const lines = versions.map((v) =>
      JSON.stringify({
        name: v.name,
        vers: v.vers,
        deps: v.deps.map((d) => ({ name: d.name, req: d.req, features: [], optional: false, default_features: true, target: null, kind: 'normal' })),
        cksum: v.cksum,
        features: {},
        yanked: false,
      }),
    );
    const body = Buffer.from(lines.map((l) => `${l}\n`).join(''));
    lastModified = Math.max(Math.floor(Date.now() / 1000) * 1000, lastModified + 1000);
    files.set(indexPath(lname), { body, etag: `"${sha256(body).slice(0, 16)}"`, modified: new Date(lastModified), private: versions.some((v) => v.private) });
  }

  const authorized = (req: IncomingMessage): boolean => opts.token !== undefined && req.headers.authorization === opts.token;

  async function handle(host: 'index' | 'dl', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const seen: CargoSeen = { host, method: req.method ?? '', path, headers: req.headers, status: 0 };
    requests.push(seen);
    const send = (status: number, headers: Record<string, string>, body?: Buffer): void => {
      seen.status = status;
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const fault = [...faults].find(([p]) => path.startsWith(p))?.[1];
    if (fault?.kind === 'status') return send(fault.status, { 'content-type': 'text/plain' }, Buffer.from('injected\n'));
    let body: Buffer | undefined;
    const headers: Record<string, string> = {};
    const crate = host === 'dl' || opts.dlOnIndexHost ? downloads.get(path) : undefined;
    if (host === 'index' && path === '/config.json') {
      body = configJson();
      Object.assign(headers, { 'content-type': 'application/json', etag: `"${sha256(body).slice(0, 16)}"` });
      if (req.headers['if-none-match'] === headers.etag) return send(304, headers);
    } else if (crate) {
      if (crate.private && !authorized(req)) return send(401, { 'content-type': 'text/plain' }, Buffer.from('token required\n'));
      Object.assign(headers, { 'content-type': 'application/gzip', etag: `"${crate.cksum.slice(0, 16)}"` });
      if (req.headers['if-none-match'] === headers.etag) return send(304, headers);
      body = crate.crate;
    } else if (host === 'index' && files.has(path)) {
      const f = files.get(path);
      if (!f) return send(404, {});
      if (f.private && !authorized(req)) return send(401, { 'content-type': 'text/plain' }, Buffer.from('token required\n'));
      Object.assign(headers, { 'content-type': 'text/plain', etag: f.etag, 'last-modified': f.modified.toUTCString() });
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      if (inm !== undefined ? inm === f.etag : ims !== undefined && Date.parse(ims) >= f.modified.getTime()) return send(304, headers);
      body = f.body;
    }
    if (body === undefined) return send(404, { 'content-type': 'text/plain' }, Buffer.from('not found\n'));
    headers['content-length'] = String(body.length);
    if (fault?.kind === 'corrupt') {
      const bad = Buffer.from(body);
      bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
      return send(200, headers, bad);
    }
    if (fault?.kind !== 'slow') return send(200, headers, body);
    seen.status = 200;
    res.writeHead(200, headers);
    const step = Math.max(1, Math.floor(fault.bytesPerSecond / 20));
    for (let off = 0; off < body.length && !res.destroyed; off += step) {
      res.write(body.subarray(off, off + step));
      await sleep(50);
    }
    res.end();
  }

  const cert = opts.tls ? await originCertificate('regcache cargo-origin CA') : undefined;
  const caFile = cert?.caFile;
  const listener = (host: 'index' | 'dl') => (req: IncomingMessage, res: ServerResponse): void => {
    handle(host, req, res).catch(() => res.destroy());
  };
  const hosts = { index: await startOriginListener(cert?.tls, listener('index')), dl: await startOriginListener(cert?.tls, listener('dl')) };
  urls.index = hosts.index.url;
  urls.dl = hosts.dl.url;
  const down = async (): Promise<void> => {
    await Promise.all([hosts.index.down(), hosts.dl.down()]);
  };

  return {
    url: urls.index,
    dlUrl: urls.dl,
    caFile,
    requests,
    publish(name, vers, o = {}) {
      const deps = o.deps ?? [];
      const crate = makeCrate(name, vers, deps);
      const v: CrateVersion = { name, vers, crate, cksum: sha256(crate), deps, private: o.private ?? false };
      cksums.set(`${name}@${vers}`, v.cksum);
      const lname = name.toLowerCase();
      crates.set(lname, [...(crates.get(lname) ?? []), v]);
      downloads.set(dlPath(name, vers), v);
      setIndex(lname);
      return v;
    },
    indexPath,
    dlPath,
    count: (host, path) => requests.filter((r) => r.host === host && r.path === path && r.method === 'GET').length,
    async seen(host, path, n = 1) {
      while (requests.filter((r) => r.host === host && r.path === path).length < n) await sleep(10);
    },
    conditional(path, host = 'index') {
      const asked = requests.filter((r) => r.host === host && r.path === path && (r.headers['if-none-match'] !== undefined || r.headers['if-modified-since'] !== undefined));
      return { asked: asked.length, notModified: asked.filter((r) => r.status === 304).length };
    },
    fault(prefix, f) {
      if (f) faults.set(prefix, f);
      else faults.delete(prefix);
    },
    down,
    async up() {
      await hosts.index.up();
      await hosts.dl.up();
    },
    close: down,
  };
}
