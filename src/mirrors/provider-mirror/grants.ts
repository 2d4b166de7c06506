/**
 * Download grants for `proxy_packages`: Terraform sends no credential when
 * it downloads a zip, yet a registry that needs the client's bearer token
 * to read blobs needs it for that download too. The `{version}.json` of a
 * private provider (read with the client's credential) therefore carries,
 * in each signed zip URL, the credential sealed with AES-256-GCM under a
 * key derived from the URL signing key, bound to that exact path and
 * expiry. Only regcache can open it; it is opened only to download that
 * zip from `origin_url`, and never logged (the request log records paths
 * without their query). Replicas sharing `server.urlSigningKey` open each
 * other's grants.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** The query parameter holding a grant. */
export const GRANT_PARAM = 'grant';

/** Seals and opens grants. */
export interface Grants {
  /** The sealed credential for `path` with the signed query's `exp`. */
  seal(path: string, exp: string, credential: string): string;
  /** The credential of a valid grant in `query` for `path`, else undefined. */
  open(path: string, query: URLSearchParams): string | undefined;
}

const MAX_GRANT = 12_000;

/** Creates the grant sealer over the instance's URL signing key. */
export function createGrants(signingKey: Buffer): Grants {
  const key = createHmac('sha256', signingKey).update('regcache provider-mirror download grant v1').digest();
  const aad = (path: string, exp: string): Buffer => Buffer.from(`${path}\n${exp}`, 'utf8');
  return {
    seal(path, exp, credential) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(path, exp));
      const sealed = Buffer.concat([cipher.update(credential, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    open(path, query) {
      const text = query.get(GRANT_PARAM);
      const exp = query.get('exp');
      if (text === null || exp === null || text.length > MAX_GRANT || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
      const raw = Buffer.from(text, 'base64url');
      if (raw.length < 29) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAAD(aad(path, exp));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
