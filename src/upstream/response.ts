/**
 * Reading an upstream answer's headers the way every mode needs them: the
 * first value of a header, and the validators (ETag, Last-Modified) kept
 * with a stored copy for its later conditional request. An upstream answer
 * becomes an artifact source with `artifactSource`.
 */
import type { ArtifactSource, Validators } from '../core/route.js';
import type { UpstreamResponse } from './client.js';

/** Longest validator kept; a longer one is dropped (the copy is then revalidated unconditionally). */
const MAX_VALIDATOR = 256;

/** The first value of a header as node gives it. */
export function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function validator(v: string | string[] | undefined): string | undefined {
  const s = firstValue(v);
  return s !== undefined && s.length > 0 && s.length <= MAX_VALIDATOR ? s : undefined;
}

/** The ETag and Last-Modified of an answer, when present and sane. */
export function validatorsOf(headers: Readonly<Record<string, string | string[] | undefined>>): Validators {
  const etag = validator(headers.etag);
  const lastModified = validator(headers['last-modified']);
  return { ...(etag !== undefined ? { etag } : {}), ...(lastModified !== undefined ? { lastModified } : {}) };
}

/** An upstream answer as the source of a fill: its body, announced size and validators. */
export function artifactSource(res: UpstreamResponse): ArtifactSource {
  return { body: res.body, ...(res.size !== undefined ? { size: res.size } : {}), ...validatorsOf(res.headers) };
}
