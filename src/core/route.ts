/**
 * Routes: what a mirror adapter hands the core. A route names a cache key and
 * says how to obtain the bytes on a miss; the core decides everything else
 * (hit or miss, freshness, single-flight, verify-before-commit). Nothing here
 * knows any protocol.
 */
import type { Readable } from 'node:stream';
import type { ObjectMeta } from './store.js';

/** How the core reported a request (also the log/metrics label). */
export type CacheResult = 'hit' | 'miss' | 'stale' | 'bypass' | 'error';

/** An upstream body to be cached. */
export interface ArtifactSource {
  /** Expected length when upstream announced it. */
  size?: number;
  body: Readable;
}

/** What a finished download looked like; given to `verify`. */
export interface FillSummary {
  sha256: string;
  size: number;
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
  /** Whether a cached copy answers this request (e.g. same file name); false → 404. */
  matches?(meta: ObjectMeta): boolean;
}

/** A small answer (JSON, checksums) with a freshness lifetime. */
export interface MetadataRoute {
  kind: 'metadata';
  key: string;
  /** Fresh for this long (ms); Infinity = immutable. */
  ttlMs: number;
  /** After expiry, served stale (with a background refresh) for this long. */
  staleIfErrorMs: number;
  /** Loads the current upstream answer; throws a RegcacheError when there is none to cache. */
  load(signal: AbortSignal): Promise<LoadedMetadata>;
}

/** A loaded metadata body. */
export interface LoadedMetadata {
  body: Buffer;
  contentType: string;
  attrs?: Record<string, string>;
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
