/**
 * Generated manifests and layer records, stored by digest in one
 * repository's scope (keys.ts): written as immutable metadata when a tag is
 * resolved, read back (never loaded from upstream) for requests by digest.
 */
import type { Cache } from '../../core/cache.js';
import type { MetadataRoute } from '../../core/route.js';
import { layerKey, manifestKey } from './keys.js';
import type { BuiltManifest } from './layout.js';

/** A stored manifest. */
export interface StoredManifest {
  mediaType: string;
  body: Buffer;
}

function storeRoute(key: string, body: Buffer, contentType: string): MetadataRoute {
  return { kind: 'metadata', key, ttlMs: Number.POSITIVE_INFINITY, staleIfErrorMs: 0, load: () => Promise.resolve({ body, contentType }) };
}

/** Stores manifests by their digests. */
export async function storeManifests(cache: Cache, scope: string, manifests: readonly BuiltManifest[]): Promise<void> {
  for (const m of manifests) await cache.metadata(storeRoute(manifestKey(scope, m.digest.slice('sha256:'.length)), m.body, m.mediaType));
}

/** Stores what a layer digest names. */
export async function storeLayerRecord(cache: Cache, scope: string, hex: string, record: object): Promise<void> {
  await cache.metadata(storeRoute(layerKey(scope, hex), Buffer.from(JSON.stringify(record)), 'application/json'));
}

/** A stored manifest, or undefined. */
export async function storedManifest(cache: Cache, scope: string, hex: string): Promise<StoredManifest | undefined> {
  const found = await cache.cached(manifestKey(scope, hex));
  return found === undefined ? undefined : { mediaType: found.contentType, body: found.body };
}

/** A stored layer record, or undefined. */
export async function storedLayerRecord<T>(cache: Cache, scope: string, hex: string): Promise<T | undefined> {
  const found = await cache.cached(layerKey(scope, hex));
  return found === undefined ? undefined : (JSON.parse(found.body.toString('utf8')) as T);
}
