/**
 * A provider zip as a cache artifact: the layer blob the version's
 * manifest names, downloaded from the registry (its CDN redirect followed
 * by regcache) and committed only when its bytes hash to the layer digest
 * and have the layer's size. The key is the blob's digest, so every
 * platform or version sharing one zip shares one stored copy.
 *
 * The download is made with regcache's own access first (the anonymous
 * token flow). When the registry refuses that and the request names a
 * download grant (`proxy_packages`, grants.ts) that opens from the store,
 * the client's credential is sent to `origin_url` (never to a redirect
 * target on another origin); the provider's scope is then marked private
 * before the zip is stored, and the zip is stored as private: only signed
 * requests are served it. A grant that does not open leaves the registry's
 * refusal standing: no credential is sent.
 */
import { SIGNED_URL, type Credential } from '../../access/credential.js';
import { isUpstreamRefusal } from '../../access/refusal.js';
import { isPrivateObject, privateAttrs, type ScopePrivacy } from '../../access/scope-privacy.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute, DigestAlgorithm } from '../../core/route.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import type { RegistryClient } from '../oci/registry-client.js';
import type { Archive } from './layouts.js';
import { blobKey, type ProviderAddr } from './names.js';

/** What zip routes are made of. */
export interface ZipRouteDeps {
  registry: RegistryClient;
  client: UpstreamClient;
  privacy: ScopePrivacy;
}

/** One zip request. */
export interface ZipRequest {
  addr: ProviderAddr;
  version: string;
  archive: Archive;
  /** SIGNED_URL when a valid signature authorized it (the scope is private). */
  cred: Credential;
  /** Opens the request's download grant (proxy_packages only): the client credential, or undefined when there is none valid. */
  grant: (() => Promise<string | undefined>) | undefined;
  /** The instance's `expire_after` (ms; Infinity = never). */
  expireAfterMs: number;
}

/** The artifact route of a provider zip. */
export function zipRoute(deps: ZipRouteDeps, z: ZipRequest): ArtifactRoute {
  const { addr, archive } = z;
  const [algorithm, hex] = archive.digest.split(':') as [DigestAlgorithm, string];
  const attrs: Record<string, string> = { version: z.version, platform: archive.platform, ...(z.cred === SIGNED_URL ? privateAttrs(addr.scope) : {}) };
  let holdBack = deps.client.holdBackFor(undefined);

  async function open(signal: AbortSignal): Promise<UpstreamResponse> {
    try {
      return await deps.registry.blob(addr.repo, archive.digest, { signal });
    } catch (err) {
      if (!isUpstreamRefusal(err) || z.grant === undefined) throw err;
      const credential = await z.grant();
      // An unknown, forged, expired or foreign grant: the registry's refusal stands.
      if (credential === undefined) throw err;
      // Stored before the zip: nothing read with a client's credential is ever stored unmarked.
      await deps.privacy.markPrivate(addr.scope, err.upstreamStatus);
      Object.assign(attrs, privateAttrs(addr.scope));
      return deps.client.open(`${deps.registry.base}/v2/${addr.repo}/blobs/${archive.digest}`, { authorization: credential, signal });
    }
  }

  return {
    kind: 'artifact',
    key: blobKey(addr, archive.digest),
    contentType: 'application/zip',
    class: 'artifact',
    attrs,
    digests: [algorithm],
    maxBytes: archive.size,
    ...(Number.isFinite(z.expireAfterMs) ? { expireAfterMs: z.expireAfterMs } : {}),
    // A zip stored as private answers only a signed request.
    matches: (meta) => z.cred === SIGNED_URL || !isPrivateObject(meta.attrs),
    get holdBack() {
      return holdBack;
    },
    async fetch(signal) {
      const res = await open(signal);
      holdBack = deps.client.holdBackFor(res);
      return res.size === undefined ? { body: res.body } : { body: res.body, size: res.size };
    },
    verify(summary) {
      if (summary.digests[algorithm] !== hex || summary.size !== archive.size) {
        throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `the ${archive.platform} package does not match its layer digest ${archive.digest}`);
      }
    },
  };
}
