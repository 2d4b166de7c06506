/**
 * Routes: what a mirror adapter hands the core. A route names a cache key and
 * says how to obtain the bytes on a miss; the core decides everything else
 * (hit or miss, freshness, single-flight, verify-before-commit). Nothing here
 * knows any protocol.
 *
 * Invariants: a route only describes (key, how to fetch and verify, how
 * long a copy lives); the core never stores bytes its `verify` refused.
 * The process topology is invisible to a route: under `server.workers` a
 * fill may get its bytes from another worker's download instead of calling
 * `fetch`; it still computes every digest the route lists and calls
 * `verify` with them, exactly as for bytes it fetched itself.
 */
import type { Readable } from 'node:stream';
import type { ObjectClass, ObjectMeta } from './store.js';

/** Digest algorithms a route may ask the fill to compute while streaming. */
export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** Upstream validators of a stored copy, for conditional revalidation. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/**
 * How a mutable object is kept (file mode `revalidate`, npm packuments …).
 * Without it an artifact is immutable: fetched once, served until removed.
 */
export interface Freshness {
  /** Served without asking upstream for this long after it was stored or last revalidated; Infinity = forever. */
  freshForMs: number;
  /**
   * While this object is being downloaded or revalidated by another request:
   * 'stale' serves the stored copy (or joins the running download when there
   * is none), 'bypass' streams this request straight from upstream, storing nothing.
   */
  busy: 'stale' | 'bypass';
}

/** How the core reported a request (also the log/metrics label). */
export type CacheResult = 'hit' | 'miss' | 'stale' | 'bypass' | 'error';

/** An upstream body to be cached. */
export interface ArtifactSource {
  /** Expected length when upstream announced it. */
  size?: number;
  body: Readable;
  /** Upstream validators, kept with the object for conditional revalidation. */
  etag?: string;
  lastModified?: string;
}

/** What a finished download looked like; given to `verify`. */
export interface FillSummary {
  sha256: string;
  size: number;
  /** Lowercase hex of every algorithm the route listed in `digests` (sha256 always). */
  digests: Partial<Record<DigestAlgorithm, string>>;
}

/** An immutable blob (provider zip, module archive): cached forever once verified. */
export interface ArtifactRoute {
  kind: 'artifact';
  key: string;
  contentType: string;
  /** Opens the upstream body; throws a RegcacheError for non-200 answers. */
  fetch(signal: AbortSignal): Promise<ArtifactSource>;
  /** Throws (ERR_INTEGRITY_MISMATCH…) to refuse the bytes; nothing is then committed. */
  verify(summary: FillSummary): Promise<void> | void;
  /** Runs after commit (records that must exist as soon as the object does); failures are only logged. */
  afterCommit?(key: string): Promise<void>;
  /**
   * Heavier derived data (an h1 hash over the whole archive) computed after
   * commit once every client of the download has been served, so it does
   * not compete with them for CPU and memory; failures are only logged.
   * Anything needing it sooner computes it on demand.
   */
  afterServed?(key: string): Promise<void>;
  /** Attributes stored with the object. */
  attrs?: Record<string, string>;
  /**
   * Extra response headers sent with this artifact on every answer (hit,
   * miss, 304, HEAD): `Vary: Accept` for a negotiated representation,
   * `Docker-Content-Digest` for a blob addressed by digest. They may not
   * replace the headers the core owns (content-type, content-length,
   * content-range, etag, last-modified, cache-control, accept-ranges).
   */
  headers?: Readonly<Record<string, string>>;
  /** Whether a cached copy answers this request (e.g. same file name); false → 404. */
  matches?(meta: ObjectMeta): boolean;
  /** Recorded with the object; default 'artifact'. */
  class?: ObjectClass;
  /** Digests computed once while streaming (relayed bytes included), for `verify` (sha256 is always computed). */
  digests?: readonly DigestAlgorithm[];
  /** Mutable artifact: kept fresh this way (see Freshness); absent = immutable. */
  freshness?: Freshness;
  /**
   * Conditional upstream request for a stored copy past its freshness:
   * 'not-modified' renews the stored copy without a body transfer (counted
   * as a 304), a source replaces it through a normal verified fill.
   * Required with `freshness`.
   */
  revalidate?(validators: Validators, signal: AbortSignal): Promise<'not-modified' | ArtifactSource>;
  /** The stored copy is not served (it is fetched again) this long after it was stored or renewed; absent = kept. */
  expireAfterMs?: number;
  /** Upper bound of the body; a larger announced or streamed body fails the fill (ERR_UPSTREAM_TOO_LARGE). */
  maxBytes?: number;
  /** Bytes withheld from clients until verified and committed (default 64 KiB; Infinity = all). */
  holdBack?: number;
  /**
   * Upstream 404/401 answers for this key are remembered in memory this
   * long and given again without asking upstream (default 0 = not at all).
   * Only for keys whose answer does not depend on the client's credential.
   */
  negativeTtlMs?: number;
}

/** A small answer (JSON, checksums) with a freshness lifetime. */
export interface MetadataRoute {
  kind: 'metadata';
  key: string;
  /** Fresh for this long (ms); Infinity = immutable. */
  ttlMs: number;
  /** After expiry, served stale (with a background refresh) for this long. */
  staleIfErrorMs: number;
  /**
   * Loads the current upstream answer; throws a RegcacheError when there is
   * none to cache. Given the stored copy's validators when one exists, it
   * may make a conditional request and answer 'not-modified' (a 304): the
   * stored copy is then renewed without a body transfer.
   */
  load(signal: AbortSignal, validators?: Validators): Promise<LoadedMetadata | 'not-modified'>;
  /** Recorded with the object; default 'metadata'. */
  class?: ObjectClass;
  /** The stored copy is not served (it is loaded again, unconditionally) this long after it was stored or renewed; absent = kept. */
  expireAfterMs?: number;
  /** As ArtifactRoute.negativeTtlMs: remembered 404/401 answers stand in for the load. */
  negativeTtlMs?: number;
}

/** A loaded metadata body. */
export interface LoadedMetadata {
  body: Buffer;
  contentType: string;
  attrs?: Record<string, string>;
  /** Upstream validators, kept for conditional revalidation. */
  etag?: string;
  lastModified?: string;
}

/** A cached metadata answer as served. */
export interface MetadataResult {
  body: Buffer;
  contentType: string;
  storedAt: number;
  sha256: string;
  attrs: Record<string, string>;
  result: CacheResult;
}
