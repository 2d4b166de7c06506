/**
 * `.crate` downloads (`/api/v1/crates/<name>/<version>/download`, the
 * path the served config.json's `dl` names). The crate's index file is
 * read first, through the same cache and access decisions as an index
 * request (so a lock-file install that never asked for the index still
 * gets it loaded, and a private crate is authorized before anything is
 * served); its line for the version gives the sha-256 (`cksum`) the bytes
 * must have before they are stored or their last bytes served. The stored
 * index copy is used whatever its age (a published version's cksum never
 * changes, and cargo's own index request just refreshed it), so a download
 * costs no index request upstream; a version missing from it makes one
 * conditional refresh.
 * The upstream URL comes from the upstream config.json's `dl` template;
 * that host is allowed because the upstream named it. A client credential
 * goes along only when the crate is private and the download is on the
 * upstream's own origin.
 */
import { privateAttrs } from '../../access/scope-privacy.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute, ArtifactSource } from '../../core/route.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import type { StreamAnswer } from '../mirror.js';
import { checkedBody } from './checked-body.js';
import { findEntry, type IndexEntry } from './index-file.js';
import { crateKey } from './names.js';
import type { CratePolicy } from './settings.js';
import type { LoadedFile } from './scoped-file.js';
import { artifactSource } from '../../upstream/response.js';

/** What a download needs from the instance. */
export interface CrateDownloadDeps {
  instance: string;
  client: UpstreamClient;
  upstreamOrigin: string;
  policy: CratePolicy;
  freshForMs: number;
  expireAfterMs: number;
  maxBytes: number;
  /** The crate's index file for this client: the stored copy whatever its age, or with `freshForMs` 0 asked of upstream now. */
  loadIndex(lname: string, freshForMs?: number): Promise<LoadedFile>;
  /** The upstream `dl` template (from the stored upstream config.json). */
  upstreamDl(): Promise<string>;
  downloadUrl(dl: string, entry: IndexEntry): string;
  /** The privacy scope of a crate. */
  scopeOf(lname: string): string;
}

/** What a download resolves to before it is answered. */
export interface ResolvedCrate {
  entry: IndexEntry;
  url: string;
  private: boolean;
  scope: string;
}

/** Finds the version's index line and upstream URL; throws ERR_NOT_FOUND when the index has no such version. */
export async function resolveCrate(deps: CrateDownloadDeps, lname: string, version: string): Promise<ResolvedCrate> {
  let index = await deps.loadIndex(lname);
  let entry = findEntry(index.body, lname, version);
  if (!entry && index.result !== 'miss') {
    index = await deps.loadIndex(lname, 0);
    entry = findEntry(index.body, lname, version);
  }
  if (!entry) throw new RegcacheError('ERR_NOT_FOUND', 'no such crate version in the index');
  return { entry, url: deps.downloadUrl(await deps.upstreamDl(), entry), private: index.private, scope: deps.scopeOf(lname) };
}

/** The Authorization a download may carry: the client's, for a private crate on the upstream's origin. */
function downloadAuth(deps: CrateDownloadDeps, crate: ResolvedCrate, cred: string | undefined): { authorization?: string } {
  return crate.private && cred !== undefined && new URL(crate.url).origin === deps.upstreamOrigin ? { authorization: cred } : {};
}

function integrity(crate: ResolvedCrate, sha256: string): void {
  if (sha256 !== crate.entry.cksum) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `sha256 of ${crate.entry.name} ${crate.entry.vers} does not match the index cksum`);
}

/** The artifact route of a cached `.crate` (immutable, or revalidated when `crate_policy: revalidate`). */
export function crateRoute(deps: CrateDownloadDeps, lname: string, crate: ResolvedCrate, cred: string | undefined): ArtifactRoute {
  let holdBack = deps.client.holdBackFor(undefined);
  const auth = downloadAuth(deps, crate, cred);
  const source = (res: UpstreamResponse): ArtifactSource => {
    holdBack = deps.client.holdBackFor(res);
    return artifactSource(res);
  };
  const route: ArtifactRoute = {
    kind: 'artifact',
    key: crateKey(deps.instance, lname, crate.entry.vers),
    contentType: 'application/gzip',
    class: 'artifact',
    digests: ['sha256'],
    maxBytes: deps.maxBytes,
    get holdBack() {
      return holdBack;
    },
    async fetch(signal) {
      return source(await deps.client.open(crate.url, { signal, ...auth }));
    },
    verify: (summary) => integrity(crate, summary.sha256),
    ...(crate.private ? { attrs: privateAttrs(crate.scope) } : {}),
    ...(Number.isFinite(deps.expireAfterMs) ? { expireAfterMs: deps.expireAfterMs } : {}),
  };
  if (deps.policy === 'revalidate') {
    route.freshness = { freshForMs: deps.freshForMs, busy: 'stale' };
    route.revalidate = async (validators, signal) => {
      const headers: Record<string, string> = validators.etag !== undefined ? { 'if-none-match': validators.etag } : {};
      try {
        return source(await deps.client.open(crate.url, { signal, headers, ...auth }));
      } catch (err) {
        if (err instanceof RegcacheError && err.upstreamStatus === 304) return 'not-modified';
        throw err;
      }
    };
  }
  return route;
}

/** `crate_policy: bypass`: streamed from upstream, checked against the cksum, stored nowhere. */
export async function crateBypass(deps: CrateDownloadDeps, crate: ResolvedCrate, cred: string | undefined, head: boolean): Promise<StreamAnswer> {
  const res = await deps.client.open(crate.url, { method: head ? 'HEAD' : 'GET', ...downloadAuth(deps, crate, cred) });
  const headers: Record<string, string> = { 'content-type': 'application/gzip', 'cache-control': 'no-cache' };
  if (res.size !== undefined) headers['content-length'] = String(res.size);
  if (head) {
    res.body.destroy();
    return { kind: 'stream', status: 200, headers, body: undefined };
  }
  return { kind: 'stream', status: 200, headers, body: checkedBody(res.body, deps.maxBytes, (sha256) => integrity(crate, sha256)) };
}
