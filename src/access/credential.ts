/**
 * What a request brings to prove it may see private content, as the access
 * layer sees it: the client's own Authorization header, nothing, or a valid
 * signed URL (artifact downloads, which clients make without credentials).
 * A credential is never stored, logged or put in a URL; where one must be
 * remembered (a check result, a refusal, a single-flight key) a hash of it
 * stands in.
 */
import { createHash } from 'node:crypto';

/** Stands for "authorized by a valid signed URL" (artifact requests carry no credential). */
export const SIGNED_URL = Symbol('signed-url');

/** The client's own credential (its Authorization header), if it sent one, or SIGNED_URL. */
export type Credential = string | undefined | typeof SIGNED_URL;

const hash = (...parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('base64url');

/**
 * The authorization class of a request: requests of one class get the same
 * answer from upstream, so only they may share a load or a remembered
 * refusal. Anonymous, signed, or a hash of the credential.
 */
export function authClass(cred: Credential): string {
  if (cred === undefined) return 'anonymous';
  if (cred === SIGNED_URL) return 'signed';
  return `credential:${hash('class', cred)}`;
}

/** Names a (scope, credential) pair in memory without keeping the credential. */
export function credentialKey(scope: string, credential: string): string {
  return hash(scope, credential);
}
