/**
 * Store keys of a `tofu_oci` instance, all under `tofu-oci/<instance>/`:
 *
 *   <host>/<namespace>/<type>/manifests/sha256/<hex>   a generated manifest or index, by digest
 *   <host>/<namespace>/<type>/blobs/sha256/<hex>       which package a layer digest names (JSON)
 *
 * Both are written when a tag is resolved and only read afterwards: a
 * digest regcache never generated is a 404 with no upstream request. The
 * provider zips themselves are the terraform mode's objects
 * (`tf/providers/…`, provider-package.ts), shared with its network mirror.
 */
import { encodeKeySegment } from '../../core/keys.js';
import { assertKey } from '../../core/store.js';
import { hostKey } from '../terraform/names.js';
import type { ProviderRepo } from './repository.js';

/** The key prefix of an instance. */
export function instancePrefix(instance: string): string {
  return `tofu-oci/${encodeKeySegment(instance)}/`;
}

function repoPrefix(instance: string, p: ProviderRepo): string {
  return `${instancePrefix(instance)}${encodeKeySegment(hostKey(p.up.host))}/${encodeKeySegment(p.namespace)}/${encodeKeySegment(p.type)}/`;
}

function checked(key: string): string {
  assertKey(key);
  return key;
}

/** A generated manifest's key. */
export function manifestKey(instance: string, p: ProviderRepo, hex: string): string {
  return checked(`${repoPrefix(instance, p)}manifests/sha256/${hex}`);
}

/** A layer record's key. */
export function layerKey(instance: string, p: ProviderRepo, hex: string): string {
  return checked(`${repoPrefix(instance, p)}blobs/sha256/${hex}`);
}
