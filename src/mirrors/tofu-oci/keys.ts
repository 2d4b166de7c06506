/**
 * Store keys of a `tofu_oci` instance, all under `tofu-oci/<instance>/`,
 * then `providers/<host>/<namespace>/<type>/` or
 * `modules/<host>/<namespace>/<name>/<system>/` (the scope of one
 * repository):
 *
 *   <scope>/manifests/sha256/<hex>   a generated manifest or index, by digest
 *   <scope>/blobs/sha256/<hex>       which package a layer digest names (JSON)
 *   <scope>/zips/sha256/<hex>        a module's zip repacked from its tarball
 *
 * Manifests and records are written when a tag is resolved and only read
 * afterwards: a digest regcache never generated is a 404 with no upstream
 * request. Provider zips and module archives themselves are the terraform
 * mode's objects (`tf/providers/…`, `tf/modules/…`), shared with it.
 */
import { encodeKeySegment } from '../../core/keys.js';
import { assertKey } from '../../core/store.js';
import { hostKey } from '../terraform/names.js';

/** The key prefix of an instance. */
export function instancePrefix(instance: string): string {
  return `tofu-oci/${encodeKeySegment(instance)}/`;
}

/** The scope of one repository: its kind and validated address parts (host first). */
export function scopePrefix(instance: string, kind: 'providers' | 'modules', host: string, parts: readonly string[]): string {
  return `${instancePrefix(instance)}${kind}/${[hostKey(host), ...parts].map(encodeKeySegment).join('/')}/`;
}

function checked(key: string): string {
  assertKey(key);
  return key;
}

/** A generated manifest's key. */
export function manifestKey(scope: string, hex: string): string {
  return checked(`${scope}manifests/sha256/${hex}`);
}

/** A layer record's key. */
export function layerKey(scope: string, hex: string): string {
  return checked(`${scope}blobs/sha256/${hex}`);
}

/** A repacked module zip's key. */
export function zipKey(scope: string, hex: string): string {
  return checked(`${scope}zips/sha256/${hex}`);
}
