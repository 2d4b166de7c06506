/**
 * Download grants for `proxy_packages`: Terraform sends no credential when
 * it downloads a zip, yet a registry that needs the client's bearer token
 * to read blobs needs it for that download too. No credential ever goes
 * into a URL, sealed or not: when the `{version}.json` of a private
 * provider is answered for a client credential, the credential is sealed
 * (AES-256-GCM, key derived from the URL signing key, AAD bound to the
 * provider's scope and the grant id) and stored as a small metadata object
 * `<instance prefix>_grants/<id>` ('_' starts no hostname, so no provider's
 * keys or purge prefix reach it; listings ignore it). The id is an HMAC
 * (another key derived from the signing key) of scope and credential: the
 * same client re-uses one grant and the id reveals nothing. The signed zip
 * URLs carry only `grant=<id>`.
 *
 * A zip request looks the grant up in the store (so every worker process
 * and every replica sharing the store and `server.urlSigningKey` finds
 * it), checks it is unexpired and bound to this scope, and opens it only to
 * download that zip from `origin_url`. An unknown or forged id opens
 * nothing. The credential is never logged.
 *
 * Lifetime: a grant expires (the store's `expiresAt`, so retention removes
 * it) the signed-URL lifetime plus a fifth after it was stored, and is
 * stored again once it is older than a tenth of that lifetime: every URL
 * signed with it (valid for the lifetime from signing) finds it unexpired,
 * and it outlives its last URL by at most a fifth of the lifetime.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import { assertKey, type Store } from '../../core/store.js';

/** The query parameter holding a grant id. */
export const GRANT_PARAM = 'grant';

/** A grant id: 64 lowercase hex digits (HMAC-SHA256). */
const ID = /^[0-9a-f]{64}$/;

/** Seals, stores, finds and opens grants. */
export interface Grants {
  /** Stores (or re-uses) the grant of `credential` for `scope`; resolves to its id once stored. */
  issue(scope: string, credential: string): Promise<string>;
  /** The credential of grant `id` when it is stored, unexpired and bound to `scope`; else undefined. */
  open(scope: string, id: string): Promise<string | undefined>;
}

/** What grants are made with. */
export interface GrantOptions {
  signingKey: Buffer;
  /** Writes go through the cache (a metadata route), reads of a just-written grant too. */
  cache: Pick<Cache, 'metadata' | 'peek'>;
  /** Zip requests read the store itself: what any process or replica stored last. */
  store: Pick<Store, 'read'>;
  /** The instance's key prefix ("provider-mirror/<instance>/"). */
  prefix: string;
  /** The signed-URL lifetime (ms). */
  urlTtlMs: number;
  now?: () => number;
}

/** The store key of a grant. */
export function grantKey(prefix: string, id: string): string {
  const key = `${prefix}_grants/${id}`;
  assertKey(key);
  return key;
}

/** Creates the grants of one instance. */
export function createGrants(opts: GrantOptions): Grants {
  const derive = (label: string): Buffer => createHmac('sha256', opts.signingKey).update(label).digest();
  const sealKey = derive('regcache provider-mirror download grant seal v2');
  const idKey = derive('regcache provider-mirror download grant id v2');
  const now = opts.now ?? Date.now;
  const idOf = (scope: string, credential: string): string => createHmac('sha256', idKey).update(`${scope}\n${credential}`).digest('hex');
  const aad = (scope: string, id: string): Buffer => Buffer.from(`${scope}\n${id}`, 'utf8');

  function seal(scope: string, id: string, credential: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
    cipher.setAAD(aad(scope, id));
    const sealed = Buffer.concat([cipher.update(credential, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
  }

  function unseal(scope: string, id: string, raw: Buffer): string | undefined {
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', sealKey, raw.subarray(0, 12));
      decipher.setAAD(aad(scope, id));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  return {
    async issue(scope, credential) {
      const id = idOf(scope, credential);
      const key = grantKey(opts.prefix, id);
      const r = await opts.cache.metadata({
        kind: 'metadata',
        class: 'metadata',
        key,
        ttlMs: opts.urlTtlMs / 10,
        staleIfErrorMs: 0,
        expireAfterMs: opts.urlTtlMs + opts.urlTtlMs / 5,
        load: () => Promise.resolve({ body: seal(scope, id, credential), contentType: 'application/octet-stream' }),
      });
      // The cache keeps answers it could not store in memory only: a zip request elsewhere would not find this one.
      if (r.result === 'miss' && (await opts.cache.peek(key)) === undefined) {
        throw new RegcacheError('ERR_STORAGE_UNAVAILABLE', 'cannot store the download grant of this provider');
      }
      return id;
    },

    async open(scope, id) {
      if (!ID.test(id)) return undefined;
      const got = await opts.store.read(grantKey(opts.prefix, id));
      if (got === undefined) return undefined;
      const { expiresAt } = got.meta;
      if (expiresAt === undefined || now() >= expiresAt) return undefined;
      const credential = unseal(scope, id, got.body);
      if (credential === undefined) return undefined;
      // Bound to the key it is stored under: a grant copied to another id opens nothing.
      const expected = Buffer.from(idOf(scope, credential), 'hex');
      return timingSafeEqual(expected, Buffer.from(id, 'hex')) ? credential : undefined;
    },
  };
}
