/**
 * Tarballs as cache artifacts. Where a tarball comes from and what it must
 * hash to are read from the package's packument (loaded here when no client
 * asked for it first, e.g. `npm ci` from a lock file): `dist.integrity`
 * (sha512; sha1 for old packages) or else `dist.shasum`. Both digests are
 * computed while the bytes stream; bytes that do not match are never
 * stored, and the held-back tail is never sent. The download goes to the
 * URL upstream named, through the outbound policy; the client's token goes
 * along only when that URL is on the upstream registry's own origin.
 * A tarball of a private package is stored with the package's privacy and
 * served only after the client's token is accepted (see `guard`).
 */
import type { Access } from '../../access/access.js';
import type { Credential } from '../../access/credential.js';
import { isPrivateObject, privateAttrs } from '../../access/scope-privacy.js';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute, DigestAlgorithm } from '../../core/route.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import { packageScope, tarballKey } from './names.js';
import { distFor, parsePackument, type DistInfo } from './packument-json.js';
import type { Packuments } from './packuments.js';
import { artifactSource } from '../../upstream/response.js';

/** The largest tarball accepted. */
const MAX_TARBALL = 1024 * 1024 * 1024;

/** What tarball routes need. */
export interface TarballDeps {
  instance: string;
  cache: Cache;
  client: UpstreamClient;
  access: Access;
  packuments: Packuments;
  upstream: string;
  policy: 'bypass' | 'immutable' | 'revalidate';
  expireAfterMs: number;
}

/** The digest a tarball must have. */
export interface Expected {
  alg: 'sha512' | 'sha1';
  hex: string;
}

/** The strongest digest `dist` declares (sha512 over sha1); throws when it declares none. */
export function expectedDigest(dist: Pick<DistInfo, 'integrity' | 'shasum'>): Expected {
  const sri = (dist.integrity ?? '').split(/\s+/).filter((s) => s.length > 0);
  for (const alg of ['sha512', 'sha1'] as const) {
    const entry = sri.find((s) => s.startsWith(`${alg}-`));
    if (entry) return { alg, hex: Buffer.from(entry.slice(alg.length + 1).split('?')[0] ?? '', 'base64').toString('hex') };
  }
  if (dist.shasum !== undefined && /^[0-9a-fA-F]{40}$/.test(dist.shasum)) return { alg: 'sha1', hex: dist.shasum.toLowerCase() };
  throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'the packument declares no sha512 or sha1 for this tarball');
}

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** A tarball request: its route, and the check that must pass before the route is served. */
export interface TarballRequest {
  route: ArtifactRoute;
  /** Resolves when this client may get the tarball; reads the packument unless a public copy is stored. */
  guard(): Promise<void>;
}

/** Builds the route of `name`'s tarball `file` for a client holding `cred`. */
export function tarballRequest(deps: TarballDeps, name: string, file: string, cred: Credential): TarballRequest {
  const key = tarballKey(deps.instance, name, file);
  const scope = packageScope(deps.instance, name);
  const attrs: Record<string, string> = {};
  let holdBack = deps.client.holdBackFor(undefined);
  let found: Promise<{ dist: DistInfo; expected: Expected }> | undefined;

  const lookup = (): Promise<{ dist: DistInfo; expected: Expected }> =>
    (found ??= (async () => {
      for (const repr of ['corgi', 'full'] as const) {
        const p = await deps.packuments.read(name, repr, cred);
        if (p.private) Object.assign(attrs, privateAttrs(scope));
        const dist = distFor(parsePackument(p.body, name), file);
        if (dist) return { dist, expected: expectedDigest(dist) };
      }
      throw new RegcacheError('ERR_NOT_FOUND', `no version of ${name} has the tarball ${file}`);
    })());
  // A failed lookup is not kept: the next use asks again.
  const lookupOnce = async (): Promise<{ dist: DistInfo; expected: Expected }> => {
    try {
      return await lookup();
    } catch (err) {
      found = undefined;
      throw err;
    }
  };

  const open = async (signal: AbortSignal, headers: Record<string, string>): Promise<UpstreamResponse> => {
    const { dist } = await lookupOnce();
    const sameOrigin = originOf(dist.url) !== undefined && originOf(dist.url) === originOf(deps.upstream);
    const auth = typeof cred === 'string' && sameOrigin ? { authorization: cred } : {};
    const res = await deps.client.open(dist.url, { signal, headers, ...auth });
    holdBack = deps.client.holdBackFor(res);
    return res;
  };
  const route: ArtifactRoute = {
    kind: 'artifact',
    key,
    contentType: 'application/octet-stream',
    class: 'artifact',
    attrs,
    maxBytes: MAX_TARBALL,
    digests: ['sha512', 'sha1'] satisfies DigestAlgorithm[],
    get holdBack() {
      return holdBack;
    },
    async fetch(signal) {
      return artifactSource(await open(signal, {}));
    },
    // Also for bytes another worker process downloaded: the digest is looked up here then.
    async verify(summary) {
      const { expected } = await lookupOnce();
      if (summary.digests[expected.alg] !== expected.hex) {
        throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `${expected.alg} of ${file} does not match the packument's integrity`);
      }
    },
    ...(Number.isFinite(deps.expireAfterMs) ? { expireAfterMs: deps.expireAfterMs } : {}),
  };
  if (deps.policy !== 'immutable') {
    route.freshness = { freshForMs: 0, busy: 'stale' };
    route.revalidate = async (validators, signal) => {
      const headers: Record<string, string> = {};
      if (validators.etag !== undefined) headers['if-none-match'] = validators.etag;
      if (validators.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified;
      try {
        return artifactSource(await open(signal, headers));
      } catch (err) {
        if (err instanceof RegcacheError && err.upstreamStatus === 304) return 'not-modified';
        throw err;
      }
    };
  }

  return {
    route,
    async guard() {
      const stored = await deps.cache.peek(key);
      // A stored public tarball of a package not marked private is served without reading the packument.
      if (stored && !isPrivateObject(stored.attrs) && !(await deps.access.isPrivate(scope))) return;
      await lookupOnce();
    },
  };
}
