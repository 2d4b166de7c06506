/**
 * The request handler of a `cargo` instance (a sparse registry below its
 * mount): `config.json` (rewritten), index files (`1/<n>`, `2/<n>`,
 * `3/<c>/<n>`, `<ab>/<cd>/<name>`) and `.crate` downloads at
 * `api/v1/crates/<name>/<version>/download`. Every path is validated
 * before any upstream is contacted; anything else (search, publish, owners
 * …) is answered 404 and never passed on.
 */
import { createHash } from 'node:crypto';
import type { CacheResult } from '../../core/route.js';
import { RegcacheError } from '../../core/errors.js';
import { credentialOf, type BodyAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import { crateBypass, crateRoute, resolveCrate, type CrateDownloadDeps } from './crate-download.js';
import { checkCrateName, checkVersion, nameOfIndexPath } from './names.js';
import { clientRegistryConfig } from './registry-config.js';
import type { LoadedFile } from './scoped-file.js';

/** What the handler of one instance works with. */
export interface CargoMirrorDeps extends Omit<CrateDownloadDeps, 'loadIndex' | 'upstreamDl'> {
  mount: string;
  publicUrl: string | undefined;
  authRequired: boolean;
  /** The upstream config.json for this client. */
  loadConfig(cred: string | undefined): Promise<LoadedFile>;
  /** The upstream `dl` template, read with this client's credential. */
  upstreamDlFor(cred: string | undefined): Promise<string>;
  /** A crate's index file for this client. */
  loadIndexFor(lname: string, cred: string | undefined, freshForMs?: number): Promise<LoadedFile>;
}

/**
 * An index or config answer with a strong ETag of its bytes; a client that
 * already holds them (cargo keeps index files and asks with If-None-Match)
 * gets a 304 without the body.
 */
function body(req: MirrorRequest, contentType: string, data: Buffer, result: CacheResult, isPrivate: boolean): BodyAnswer {
  const etag = `"${createHash('sha256').update(data).digest('hex')}"`;
  const headers = { etag, 'cache-control': isPrivate ? 'private, no-cache' : 'no-cache' };
  if (req.headers['if-none-match'] === etag) return { kind: 'body', status: 304, contentType, body: Buffer.alloc(0), result, headers };
  return { kind: 'body', status: 200, contentType, body: data, result, headers };
}

/** Creates the instance's one Mirror, owning everything below its mount. */
export function createCargoMirror(deps: CargoMirrorDeps): Mirror {
  return {
    name: 'cargo',
    prefix: [],
    async handle(req: MirrorRequest): Promise<MirrorAnswer> {
      const s = req.segments;
      const cred = deps.authRequired ? credentialOf(req) : undefined;
      if (s.length === 1 && s[0] === 'config.json') {
        const cfg = await deps.loadConfig(cred);
        const base = `${deps.publicUrl ?? req.baseUrl}${deps.mount}`;
        return body(req, 'application/json', clientRegistryConfig(cfg.body, base, deps.authRequired), cfg.result, cfg.private);
      }
      if (s.length === 6 && s[0] === 'api' && s[1] === 'v1' && s[2] === 'crates' && s[5] === 'download') {
        const lname = checkCrateName(s[3] ?? '').toLowerCase();
        const version = checkVersion(s[4] ?? '');
        const perClient: CrateDownloadDeps = { ...deps, loadIndex: (n, fresh) => deps.loadIndexFor(n, cred, fresh ?? Number.POSITIVE_INFINITY), upstreamDl: () => deps.upstreamDlFor(cred) };
        const crate = await resolveCrate(perClient, lname, version);
        if (deps.policy === 'bypass') return crateBypass(perClient, crate, cred, req.method === 'HEAD');
        return { kind: 'artifact', route: crateRoute(perClient, lname, crate, cred) };
      }
      if (s[0] === 'api') throw new RegcacheError('ERR_NOT_FOUND', 'this registry API is not served by a cache');
      if (s.length < 2 || s.length > 3) throw new RegcacheError('ERR_NOT_FOUND', 'not a sparse index path');
      const lname = nameOfIndexPath(s);
      const index = await deps.loadIndexFor(lname, cred);
      return body(req, 'text/plain; charset=utf-8', index.body, index.result, index.private);
    },
  };
}
