/**
 * Refusals: the answers a client gets when it may not see something. Every
 * refusal of one scope looks the same (code, status and message), whether
 * the scope is cached here or upstream was asked just now, whether the
 * client sent no credential, a wrong one, or an unsigned artifact URL, so an
 * answer never tells whether regcache holds private content. The shape
 * follows what upstream answers an anonymous client: registries that hide
 * private items answer 404, the others 401.
 */
import { RegcacheError } from '../core/errors.js';

/** Whether an upstream answer refused access (registries often hide private items as 404). */
export function isUpstreamRefusal(err: unknown): err is RegcacheError {
  return err instanceof RegcacheError && (err.code === 'ERR_UPSTREAM_UNAUTHORIZED' || err.code === 'ERR_UPSTREAM_NOT_FOUND');
}

/** Whether `err` is a refusal: an upstream one, or one of this layer. */
export function isRefusal(err: unknown): err is RegcacheError {
  return isUpstreamRefusal(err) || (err instanceof RegcacheError && err.code === 'ERR_UNAUTHORIZED');
}

/** The one refusal for a scope whose anonymous upstream answer had `status` (`cause`: upstream's own error, for logs). */
export function refusalFor(status: number | undefined, cause?: unknown): RegcacheError {
  const opts = cause === undefined ? {} : { cause };
  if (status === 404 || status === 410) return new RegcacheError('ERR_UPSTREAM_NOT_FOUND', 'not found upstream', { ...opts, upstreamStatus: 404 });
  return new RegcacheError('ERR_UNAUTHORIZED', 'credentials required, or not accepted for this content', opts);
}

/** The canonical form of an upstream refusal (no URL, one message per kind). */
export function canonicalRefusal(err: RegcacheError): RegcacheError {
  return refusalFor(err.upstreamStatus ?? (err.code === 'ERR_UPSTREAM_NOT_FOUND' ? 404 : 401), err);
}
