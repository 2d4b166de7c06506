/**
 * The names of the OCI Distribution spec, checked before anything else:
 * repository names (`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` components joined
 * by `/`), tags (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`) and digests
 * (`sha256:` + 64 hex, `sha512:` + 128 hex: the algorithms regcache can
 * verify). A name that fails is refused (400) before any upstream request.
 */
import { RegcacheError } from '../../core/errors.js';

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** The spec's limit on a repository name. */
const MAX_REPO = 255;

/** A verified-digest algorithm. */
export type DigestAlgorithmName = 'sha256' | 'sha512';

/** A parsed digest. */
export interface Digest {
  algorithm: DigestAlgorithmName;
  hex: string;
  /** "sha256:…" as written. */
  text: string;
}

/** Whether `text` is a digest regcache verifies. */
export function isDigest(text: string): boolean {
  return DIGEST.test(text);
}

/** Parses a digest; throws ERR_BAD_REQUEST for anything but sha256 / sha512 in canonical lower-case hex. */
export function parseDigest(text: string): Digest {
  if (!DIGEST.test(text)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid digest (sha256:<64 hex> or sha512:<128 hex>)');
  const colon = text.indexOf(':');
  return { algorithm: text.slice(0, colon) as DigestAlgorithmName, hex: text.slice(colon + 1), text };
}

/** Whether `text` is a valid tag. */
export function isTag(text: string): boolean {
  return TAG.test(text);
}

/** Checks a repository name given as path segments; `maxComponents` bounds its depth (cache keys). Returns "a/b". */
export function checkRepository(components: readonly string[], maxComponents: number): string {
  if (components.length === 0) throw new RegcacheError('ERR_BAD_REQUEST', 'missing repository name');
  if (components.length > maxComponents) throw new RegcacheError('ERR_BAD_REQUEST', `repository names are at most ${maxComponents} components deep here`);
  for (const c of components) if (!COMPONENT.test(c)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid repository name');
  const name = components.join('/');
  if (name.length > MAX_REPO) throw new RegcacheError('ERR_BAD_REQUEST', 'repository name too long');
  return name;
}

/** Checks a repository name already joined ("library/alpine"), as other modes hand it in. */
export function isRepository(name: string): boolean {
  return name.length > 0 && name.length <= MAX_REPO && name.split('/').every((c) => COMPONENT.test(c));
}

/** A manifest reference: a tag or a digest. */
export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

/** Parses a manifest reference; throws ERR_BAD_REQUEST. */
export function parseReference(text: string): Reference {
  if (text.includes(':')) return { kind: 'digest', digest: parseDigest(text) };
  if (!TAG.test(text)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid tag');
  return { kind: 'tag', tag: text };
}
