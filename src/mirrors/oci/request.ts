/**
 * A request path below the listener root, parsed into what the OCI
 * Distribution API names (read from the end, since repository names may
 * hold any component): `/v2/`, and `/v2/<name>/manifests/<reference>`,
 * `/v2/<name>/blobs/<digest>`, `/v2/<name>/tags/list`,
 * `/v2/<name>/referrers/<digest>`. Every name is validated here (names.ts);
 * anything else is refused before any upstream request.
 */
import { RegcacheError } from '../../core/errors.js';
import { MAX_REPO_COMPONENTS } from './keys.js';
import { checkRepository, parseDigest, parseReference, type Digest, type Reference } from './names.js';

/** What a request asks for. */
export type OciRequest =
  | { kind: 'ping' }
  | { kind: 'manifest'; repo: string; reference: Reference }
  | { kind: 'blob'; repo: string; digest: Digest }
  | { kind: 'tags'; repo: string }
  | { kind: 'referrers'; repo: string; digest: Digest };

/** Parses decoded path segments; throws ERR_NOT_FOUND / ERR_BAD_REQUEST. */
export function parseOciRequest(segments: readonly string[]): OciRequest {
  if (segments[0] !== 'v2') throw new RegcacheError('ERR_NOT_FOUND', 'only the /v2/ API is served here');
  if (segments.length === 1) return { kind: 'ping' };
  const n = segments.length;
  const last = segments[n - 1] ?? '';
  const verb = segments[n - 2] ?? '';
  const repoOf = (): string => checkRepository(segments.slice(1, n - 2), MAX_REPO_COMPONENTS);
  if (n >= 4) {
    if (verb === 'manifests') return { kind: 'manifest', repo: repoOf(), reference: parseReference(last) };
    if (verb === 'blobs') return { kind: 'blob', repo: repoOf(), digest: parseDigest(last) };
    if (verb === 'tags' && last === 'list') return { kind: 'tags', repo: repoOf() };
    if (verb === 'referrers') return { kind: 'referrers', repo: repoOf(), digest: parseDigest(last) };
  }
  throw new RegcacheError('ERR_NOT_FOUND', 'not an OCI distribution read endpoint');
}
