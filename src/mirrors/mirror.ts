/**
 * The contract between the HTTP server and a protocol adapter. An adapter
 * owns a path prefix, validates everything it reads from the request, and
 * answers with either a ready body (metadata it composed through the cache)
 * or an artifact route the server hands to the cache engine.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { MemoStamp } from '../core/cache.js';
import type { ArtifactRoute, CacheResult } from '../core/route.js';

/** A request as an adapter sees it: path already split below its prefix. */
export interface MirrorRequest {
  method: 'GET' | 'HEAD';
  /** Decoded path segments after the adapter's prefix. */
  segments: string[];
  /** The whole request path in canonical form (segments re-encoded), e.g. for URL signatures. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Public base URL of this server (scheme://host[:port]), no trailing slash. */
  baseUrl: string;
}

/** A composed answer, e.g. JSON built from cached metadata. */
export interface BodyAnswer {
  kind: 'body';
  status: number;
  contentType: string;
  body: Buffer;
  result: CacheResult;
  headers?: Record<string, string>;
  /**
   * Set when this exact answer may be sent again to the same request
   * (method, target, base URL) without asking the adapter, for as long as
   * `cache.isCurrent(reuse)`: public answers composed from the cache only,
   * never anything that depends on the client's credential.
   */
  reuse?: MemoStamp;
}

/** An artifact for the cache engine to serve (hit, or single-flight fill). */
export interface ArtifactAnswer {
  kind: 'artifact';
  route: ArtifactRoute;
}

/**
 * An upstream answer streamed straight through to the client, nothing
 * stored (a file mode `bypass` policy). The body ends cleanly only when it
 * is complete; an error cuts the transfer.
 */
export interface StreamAnswer {
  kind: 'stream';
  status: number;
  /** Complete response headers (content-length when known). */
  headers: Record<string, string>;
  /** Undefined for HEAD. */
  body: Readable | undefined;
}

/** What an adapter answers. */
export type MirrorAnswer = BodyAnswer | ArtifactAnswer | StreamAnswer;

/** A protocol adapter mounted under a path prefix. */
export interface Mirror {
  /** Short name for logs and metrics ("terraform-mirror"). */
  readonly name: string;
  /** Leading path segments this adapter owns, e.g. ["v1", "mirror"]. */
  readonly prefix: readonly string[];
  /** The instance it belongs to (set when mounted; a metrics and log label). */
  readonly instance?: string;
  handle(req: MirrorRequest): Promise<MirrorAnswer>;
}

/** The client's Authorization header, if any (never logged, never put in a URL). */
export function credentialOf(req: MirrorRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' && h.length > 0 && h.length <= 8192 ? h : undefined;
}

/** Canonical path form used for signing: each segment percent-encoded. */
export function canonicalPath(segments: readonly string[]): string {
  return `/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

/** Serializes a JSON answer once. */
export function jsonAnswer(value: unknown, result: CacheResult, status = 200): BodyAnswer {
  return { kind: 'body', status, contentType: 'application/json', body: Buffer.from(JSON.stringify(value)), result };
}
