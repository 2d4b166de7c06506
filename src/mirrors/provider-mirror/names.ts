/**
 * A provider address as the network mirror path names it
 * (`<hostname>/<namespace>/<type>`), checked once: the repository it maps
 * to (`<name_prefix>/<hostname>/<namespace>/<type>`, every component a
 * valid OCI name), its privacy scope and store keys, and the tag of each
 * version (OpenTofu's rule: `+` is written `_`). Anything that could not
 * be a provider or a repository is refused (400) before any upstream
 * request.
 */
import { RegcacheError } from '../../core/errors.js';
import { assertKey } from '../../core/store.js';
import { isRepository } from '../oci/names.js';
import { parseName, parseVersion } from '../terraform/names.js';

/** Hostnames of provider addresses: DNS names, no port (':' is no repository character). */
const HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** One provider of one instance. */
export interface ProviderAddr {
  host: string;
  namespace: string;
  type: string;
  /** The OCI repository ("terraform-providers/registry.terraform.io/hashicorp/aws"). */
  repo: string;
  /** The privacy scope and key prefix of everything stored for it. */
  scope: string;
}

/** The key prefix of an instance. */
export function instancePrefix(instance: string): string {
  return `provider-mirror/${instance}/`;
}

/** Validates the three address segments of a request path. */
export function providerAddr(instance: string, namePrefix: string, host: string, namespace: string, type: string): ProviderAddr {
  const h = host.toLowerCase();
  if (h.length > 253 || !HOST.test(h)) throw new RegcacheError('ERR_BAD_REQUEST', `invalid hostname: ${JSON.stringify(host.slice(0, 100))}`);
  const ns = parseName('namespace', namespace);
  const t = parseName('type', type);
  const repo = [namePrefix, h, ns, t].filter((p) => p !== '').join('/');
  if (!isRepository(repo)) throw new RegcacheError('ERR_BAD_REQUEST', 'this provider address is not a valid OCI repository name');
  const scope = `${instancePrefix(instance)}${h}/${ns}/${t}`;
  assertKey(scope);
  return { host: h, namespace: ns, type: t, repo, scope };
}

/** A version from a request path (semver, as Terraform asks for it). */
export function requestVersion(raw: string): string {
  return parseVersion(raw);
}

/** The tag of a version: OCI tags have no '+', OpenTofu writes it '_'. */
export function tagOf(version: string): string {
  return version.replace(/\+/g, '_');
}

/** The version a tag stands for, or undefined for tags that are no version ("latest"). */
export function versionOfTag(tag: string): string | undefined {
  const v = tag.replace(/_/g, '+');
  try {
    return parseVersion(v);
  } catch {
    return undefined;
  }
}

/** The store key of a blob of this provider ("…/blobs/sha256-<hex>"). */
export function blobKey(addr: ProviderAddr, digest: string): string {
  const key = `${addr.scope}/blobs/${digest.replace(':', '-')}`;
  assertKey(key);
  return key;
}

/** The store key of a manifest addressed by digest. */
export function manifestKey(addr: ProviderAddr, digest: string): string {
  const key = `${addr.scope}/manifests/${digest.replace(':', '-')}`;
  assertKey(key);
  return key;
}

/** The store key of the manifest a version's tag points at (mutable). */
export function tagManifestKey(addr: ProviderAddr, version: string): string {
  const key = `${addr.scope}/tags/${tagOf(version)}`;
  assertKey(key);
  return key;
}

/** The store key of the tag list. */
export function tagListKey(addr: ProviderAddr): string {
  return `${addr.scope}/tag-list`;
}
