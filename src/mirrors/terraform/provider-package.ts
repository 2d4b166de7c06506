/**
 * A provider zip as a cache artifact: pulled from the registry's download
 * URL, committed only when its sha256 equals the signed SHA256SUMS entry,
 * and followed by the `h1:` hash computed from the stored copy. Shared by
 * the network mirror and the registry protocol.
 */
import type { Access } from '../../access/access.js';
import { SIGNED_URL, type Credential } from '../../access/credential.js';
import { isPrivateObject, PRIVATE_ATTR, privateAttrs } from '../../access/scope-privacy.js';
import type { Cache } from '../../core/cache.js';
import type { BodyAnswer } from '../mirror.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute, CacheResult, MetadataRoute } from '../../core/route.js';
import type { Store } from '../../core/store.js';
import type { UpstreamClient } from '../../upstream/client.js';
import type { StoredZipHasher } from './h1-store.js';
import { providerKey } from './names.js';
import type { RegistryReader } from './registry.js';
import type { DownloadInfo } from './registry-json.js';
import { expectedSha256 } from './shasums-bundle.js';
import type { Policy } from './policy.js';
import type { RegistryUpstream, RegistryUpstreams } from './upstreams.js';

/** What both provider adapters (network mirror, registry protocol) work with. */
export interface ProviderAdapterDeps {
  upstreams: RegistryUpstreams;
  registry: RegistryReader;
  packages: ProviderPackages;
  access: Access;
  policy: Policy;
  parallelism: number;
  /** Reuses composed public answers (see `publicAnswer`). */
  cache: Pick<Cache, 'derived' | 'derivedStamp'>;
}

/** How long a composed public answer may be reused at most (bounds what other replicas changed). */
const ANSWER_MEMO_MS = 1000;

/** A composed answer and whether anything it was built from belongs to a private scope. */
export interface Composed {
  answer: BodyAnswer;
  private: boolean;
}

/**
 * A composed JSON answer for a public provider, built once and reused until
 * a cached object of its namespace (`tf/`) changes in this process (or for
 * ANSWER_MEMO_MS).
 * Private providers are always composed per request: their answers depend
 * on the client's credential and carry expiring signed URLs. Whether the
 * scope is private is read from the store on every call (another process
 * may have just marked it), and an answer built from any object stored as
 * private is never reused. `key` must name everything the answer depends
 * on besides the cache (host, path, base URL). A reused answer carries the
 * memo's stamp, so the server may replay it to the same request for as
 * long as the memo holds.
 */
export async function publicAnswer(deps: Pick<ProviderAdapterDeps, 'access' | 'cache'>, scope: string, key: string, build: () => Promise<Composed>): Promise<BodyAnswer> {
  if (await deps.access.isPrivate(scope)) return (await build()).answer;
  let built = false;
  // Memo keys live in the namespace of what they are composed from (the scope's `tf/`): only changes there end them.
  const memoKey = `${scope} ${key}`;
  const answer = await deps.cache.derived(memoKey, ANSWER_MEMO_MS, async () => {
    built = true;
    const composed = await build();
    // The build may have found the scope private (upstream refused anonymous access, or another process marked it).
    const cacheable = !composed.private && !(await deps.access.isPrivate(scope));
    return { value: composed.answer, cost: composed.answer.body.length, cacheable };
  });
  const reuse = deps.cache.derivedStamp(memoKey, ANSWER_MEMO_MS);
  const out = built ? answer : { ...answer, result: 'hit' as const };
  return reuse ? { ...out, reuse } : out;
}

/**
 * Checks a zip request made without a signature before its route reaches
 * the cache: the download answer is read (and guarded, see src/access/)
 * first. So a fill another worker process runs for a scope it marked private
 * after this request found it public is never followed (its bytes stream
 * before they are verified) by a request that may not see it.
 */
export async function guardUnsignedZip(registry: RegistryReader, id: PackageId, cred: Credential): Promise<void> {
  if (cred === SIGNED_URL) return;
  await registry.download(id.up, id.namespace, id.type, id.version, id.os, id.arch, cred);
}

/** Identifies one provider package. */
export interface PackageId {
  up: RegistryUpstream;
  namespace: string;
  type: string;
  version: string;
  os: string;
  arch: string;
}

/** Builds package routes and reads derived hashes. */
export interface ProviderPackages {
  /**
   * The artifact route for a zip; `filename` must be upstream's. `cred`
   * authorizes the request (SIGNED_URL for a valid signed URL); `sent` is the
   * client's own Authorization header, used for upstream file downloads on
   * the registry's origin (see RegistryReader.fileAuth) even when a signed
   * URL authorized the request.
   */
  zipRoute(id: PackageId, filename: string, cred: Credential, sent?: string): ArtifactRoute;
  /** The package's h1 hash and size if the zip is cached (computing the hash once if needed). */
  h1(id: PackageId): Promise<{ h1: string; size: number | undefined; result: CacheResult } | undefined>;
}

function baseKey(id: PackageId): string {
  return `${providerKey(id.up.host, id.namespace, id.type)}/${id.version}/${id.os}_${id.arch}`;
}

/** Creates the package helper. */
export function createProviderPackages(deps: { cache: Cache; store: Store; client: UpstreamClient; registry: RegistryReader; hasher: StoredZipHasher; maxArtifactBytes: number }): ProviderPackages {
  const { cache, store, client, registry } = deps;

  const h1Route = (id: PackageId): MetadataRoute => ({
    kind: 'metadata',
    key: `${baseKey(id)}/h1`,
    ttlMs: Number.POSITIVE_INFINITY,
    // Derived from the verified zip and never stale: kept like the zip, not purged with metadata.
    class: 'artifact',
    staleIfErrorMs: 0,
    async load(signal) {
      const zip = await store.stat(`${baseKey(id)}/zip`);
      const h1 = await deps.hasher.h1(`${baseKey(id)}/zip`, signal);
      const scope = zip?.attrs?.[PRIVATE_ATTR];
      return { body: Buffer.from(h1), contentType: 'text/plain', attrs: { size: String(zip?.size ?? ''), ...(scope ? privateAttrs(scope) : {}) } };
    },
  });

  const packages: ProviderPackages = {
    zipRoute(id, filename, cred, sent) {
      const upstreamCred: Credential = sent ?? cred;
      const key = `${baseKey(id)}/zip`;
      const scope = providerKey(id.up.host, id.namespace, id.type);
      // Read at commit, after `verify`: a scope found private by the lookup stores the zip as private too.
      const attrs: Record<string, string> = { filename, ...(cred === SIGNED_URL ? privateAttrs(scope) : {}) };
      let expected: string | undefined;
      // Held back whole (below upstream.holdBackAllBelow) unless every hop of the download is a configured origin.
      let holdBack = client.holdBackFor(undefined);
      /** The download answer and the zip's sha256 from the verified SHA256SUMS (cached metadata). */
      const lookup = async (): Promise<{ info: DownloadInfo; expected: string }> => {
        const download = await registry.download(id.up, id.namespace, id.type, id.version, id.os, id.arch, cred);
        const info = download.value;
        if (info.filename !== filename) throw new RegcacheError('ERR_NOT_FOUND', `no package ${filename} for this platform`);
        if (download.private) Object.assign(attrs, privateAttrs(scope));
        const bundle = (await registry.shasums(id.up, id.namespace, id.type, id.version, download, upstreamCred)).value;
        return { info, expected: expectedSha256(bundle, info) };
      };
      return {
        kind: 'artifact',
        maxBytes: deps.maxArtifactBytes,
        key,
        contentType: 'application/zip',
        attrs,
        // A zip stored as private answers only a signed request (the adapters check the scope's marker first).
        matches: (meta) => meta.attrs?.filename === filename && (cred === SIGNED_URL || !isPrivateObject(meta.attrs)),
        get holdBack() {
          return holdBack;
        },
        async fetch(signal) {
          const found = await lookup();
          expected = found.expected;
          const auth = await registry.fileAuth(id.up, upstreamCred, found.info.downloadUrl);
          const res = await client.open(found.info.downloadUrl, { signal, ...auth });
          holdBack = client.holdBackFor(res);
          return res.size === undefined ? { body: res.body } : { body: res.body, size: res.size };
        },
        // Bytes relayed from another worker's download never went through fetch: the checksum is looked up here.
        async verify(summary) {
          expected ??= (await lookup()).expected;
          if (summary.sha256 !== expected) {
            throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `sha256 of ${filename} does not match signed SHA256SUMS`);
          }
        },
        // The h1 hash inflates the whole zip: done once the download's clients are served.
        async afterServed() {
          await cache.metadata(h1Route(id));
        },
      };
    },

    async h1(id) {
      const sizeOf = (attrs: Record<string, string>): number | undefined => (attrs.size ? Number(attrs.size) : undefined);
      const known = await cache.cached(`${baseKey(id)}/h1`);
      if (known) return { h1: known.body.toString('utf8'), size: sizeOf(known.attrs), result: 'hit' };
      const zip = await cache.peek(`${baseKey(id)}/zip`);
      if (!zip) return undefined;
      const r = await cache.metadata(h1Route(id));
      return { h1: r.body.toString('utf8'), size: zip.size, result: r.result };
    },
  };
  return packages;
}
