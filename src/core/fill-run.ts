/**
 * The upstream side of one artifact fill: find where the bytes come from
 * (upstream, or another worker's download of the same key), stream them
 * into a pending store object, verify, commit. fill.ts is the side clients
 * see (followers).
 *
 * Invariants:
 * - Nothing is committed before `verify` accepted the summary of exactly the
 *   bytes appended; the last `HOLDBACK` bytes reach followers only after.
 * - Whatever fails (upstream, verification, the store, shutdown) fails the
 *   fill: the pending object is aborted and every follower gets the error.
 * - Bytes relayed from another worker are verified here again; the relay is
 *   invisible to the route.
 * - A fill that revalidates a stored copy (`replaces`, `revalidate`) first
 *   asks upstream conditionally: 'not-modified' renews the copy in
 *   the store (no body transfer) and ends the fill; a body replaces the
 *   copy through the same verified path as any download. Only an unexpired
 *   copy other than the one being replaced counts as committed by another
 *   process.
 * - A commit or renewal of a route with `expireAfterMs` records expiresAt.
 */
import type { Readable } from 'node:stream';
import { expiryOf, isExpired } from './freshness.js';
import type { ObjectMeta, RenewPatch, Store } from './store.js';
import { RegcacheError, toRegcacheError } from './errors.js';
import type { Coordinator, Lease } from './coordinator.js';
import { Digests } from './digests.js';
import type { Fill } from './fill.js';
import { FillWindow } from './fill-window.js';
import type { ArtifactRoute, ArtifactSource, FillSummary, Validators } from './route.js';

/** Bytes withheld from followers until verification succeeded. */
export const HOLDBACK = 64 * 1024;

/** Observers of a fill's outcome (logs, metrics). */
export interface FillObserver {
  onFillStart?(key: string): void;
  /** `relayed`: the bytes came from another worker process's download (server.workers), not from upstream. */
  onFillEnd?(key: string, outcome: { ok: boolean; bytes: number; ms: number; error?: RegcacheError; relayed?: boolean }): void;
  /** A stored copy was revalidated upstream: `notModified` when upstream confirmed it (renewed, no body transfer). */
  onRevalidated?(key: string, notModified: boolean): void;
}

/** What a fill needs to run. */
export interface FillSpec {
  store: Store;
  route: ArtifactRoute;
  /** The server-lifetime signal (never a client's). */
  signal: AbortSignal;
  observer: FillObserver;
  coordinator?: Coordinator | undefined;
  /** The stored copy this fill revalidates or replaces (an expired one); undefined for a plain miss. */
  replaces?: ObjectMeta | undefined;
  /** Ask upstream conditionally about `replaces` first (mutable artifacts past their freshness). */
  revalidate?: boolean;
  now: () => number;
  /** The whole fill (upstream request to commit) fails with ERR_UPSTREAM_TIMEOUT after this long. */
  deadlineMs: number;
  /** A download of unknown length that no client follows or waits for is abandoned after this long. */
  abandonAfterMs: number;
}

/**
 * Where the bytes come from: a body to stream, an object another process
 * committed meanwhile, or the stored copy, renewed because upstream
 * confirmed it.
 */
type Origin = { kind: 'source'; source: ArtifactSource; relayed: boolean } | { kind: 'adopted'; meta: ObjectMeta } | { kind: 'renewed'; meta: ObjectMeta };

/** The validators stored with a copy. */
const validatorsOf = (meta: ObjectMeta): Validators => ({
  ...(meta.etag !== undefined ? { etag: meta.etag } : {}),
  ...(meta.lastModified !== undefined ? { lastModified: meta.lastModified } : {}),
});

/** The same stored copy (not a newer commit of the key). */
const sameCopy = (a: ObjectMeta, b: ObjectMeta): boolean => a.storedAt === b.storedAt && a.sha256 === b.sha256 && a.size === b.size;

/** Asks upstream whether the stored copy `replaces` is current; renews it if so, else opens the new body. */
async function revalidate(spec: FillSpec, replaces: ObjectMeta): Promise<Origin> {
  const { store, route, signal, observer } = spec;
  if (!route.revalidate || !store.renew) return { kind: 'source', source: await route.fetch(signal), relayed: false };
  const answer = await route.revalidate(validatorsOf(replaces), signal);
  observer.onRevalidated?.(route.key, answer === 'not-modified');
  if (answer !== 'not-modified') return { kind: 'source', source: answer, relayed: false };
  const storedAt = spec.now();
  const patch: RenewPatch = { storedAt, ...expiryOf(route, storedAt) };
  const renewed = await store.renew(route.key, patch);
  if (renewed) return { kind: 'renewed', meta: renewed };
  // Removed or replaced while upstream was asked: fetch the current bytes whole.
  return { kind: 'source', source: await route.fetch(signal), relayed: false };
}

/** Claims the key (when coordinated) and opens the body: a relayed one, or upstream's. */
async function openOrigin(spec: FillSpec, onLease: (lease: Lease) => void): Promise<Origin> {
  const { store, route, coordinator, signal, replaces } = spec;
  /** An object another process committed (or renewed) meanwhile, that this fill may serve instead. */
  const committed = async (): Promise<ObjectMeta | undefined> => {
    const meta = await store.stat(route.key);
    if (!meta || (replaces && sameCopy(meta, replaces)) || isExpired(meta, spec.now())) return undefined;
    return !route.matches || route.matches(meta) ? meta : undefined;
  };
  // A worker that was downloading may finish (or fail) before it is asked for its bytes: claim again.
  for (let attempt = 0; coordinator && attempt < 3; attempt++) {
    const claim = await coordinator.claim(route.key, async () => (await committed()) !== undefined, signal);
    if (claim.kind === 'remote') {
      // One stream from the downloading worker feeds this fill; this worker's clients follow it here.
      const got = await claim.remote.open(signal);
      if (got) return { kind: 'source', source: got.size === undefined ? { body: got.body } : { body: got.body, size: got.size }, relayed: true };
      const meta = await committed();
      if (meta) return { kind: 'adopted', meta };
      continue;
    }
    if (claim.kind === 'leader') onLease(claim.lease);
    if (claim.kind !== 'uncoordinated') {
      const meta = await committed();
      if (meta) return { kind: 'adopted', meta };
    }
    break;
  }
  // A fill stopped while it claimed (deadline, shutdown) does not go upstream any more.
  signal.throwIfAborted();
  if (replaces && spec.revalidate) return revalidate(spec, replaces);
  return { kind: 'source', source: await route.fetch(signal), relayed: false };
}

/** Fails a body announced or grown larger than the route allows. */
export function checkSize(route: Pick<ArtifactRoute, 'maxBytes'>, bytes: number, announced: boolean): void {
  if (route.maxBytes === undefined || bytes <= route.maxBytes) return;
  throw new RegcacheError('ERR_UPSTREAM_TOO_LARGE', `upstream ${announced ? 'announced' : 'sent'} more than the ${route.maxBytes} bytes this route allows`);
}

/** Streams `source` into a new pending object, verifies and commits it; returns the stored meta. */
async function pump(fill: Fill, spec: FillSpec, source: ArtifactSource, relayed: boolean, abandon: () => void): Promise<ObjectMeta> {
  const { store, route } = spec;
  if (source.size !== undefined) checkSize(route, source.size, true);
  // Relayed bytes were already released by the downloading process under the route's own hold-back
  // (its follow stream carries only released bytes), so the relay holds back the usual 64 KiB for its check.
  const holdBack = relayed ? HOLDBACK : (route.holdBack ?? HOLDBACK);
  const pending = await store.create(route.key);
  const window = new FillWindow();
  fill.begin(pending, window, source.size, { afterMs: spec.abandonAfterMs, now: abandon });
  const digests = new Digests(route.digests);
  for await (const chunk of source.body as AsyncIterable<Buffer>) {
    if (source.size !== undefined && window.received + chunk.length > source.size) {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream sent more bytes than announced');
    }
    checkSize(route, window.received + chunk.length, false);
    digests.update(chunk);
    const full = window.push(chunk);
    // Released bytes may still be only in memory: followers read them from the window.
    fill.release(Math.max(0, window.received - holdBack));
    if (full.length > 0) {
      for (const block of full) await pending.append(block);
      window.persistedUpTo(pending.written);
    }
  }
  const tail = window.tail();
  if (tail) await pending.append(tail);
  window.persistedUpTo(pending.written);
  if (source.size !== undefined && pending.written !== source.size) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream body shorter than announced');
  }
  const computed = digests.finish();
  const summary: FillSummary = { sha256: computed.sha256, size: pending.written, digests: computed };
  await route.verify(summary);
  // A relayed fill's last bytes arrive only once the downloading worker committed them: the same
  // bytes need not be stored twice. Its pending file stays for followers still reading it.
  const stored = relayed ? await store.stat(route.key) : undefined;
  if (stored && stored.sha256 === summary.sha256 && stored.size === summary.size) return stored;
  const storedAt = spec.now();
  return pending.commit({
    class: route.class ?? 'artifact',
    sha256: summary.sha256,
    contentType: route.contentType,
    storedAt,
    ...expiryOf(route, storedAt),
    ...(source.etag !== undefined ? { etag: source.etag } : {}),
    ...(source.lastModified !== undefined ? { lastModified: source.lastModified } : {}),
    ...(route.attrs ? { attrs: route.attrs } : {}),
  });
}

/** Resolves like `p`, or rejects with `signal`'s reason once it aborts (a body opened too late is then destroyed). */
function untilAborted(p: Promise<Origin>, signal: AbortSignal): Promise<Origin> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
      p.then((o) => o.kind === 'source' && o.source.body.destroy(), () => undefined);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(toRegcacheError(err));
      },
    );
  });
}

/** Runs `fill` to its end (committed or failed); never rejects. */
export async function runFill(fill: Fill, spec: FillSpec): Promise<void> {
  const started = Date.now();
  const { route, observer } = spec;
  observer.onFillStart?.(route.key);
  // The fill's own signal: server shutdown, its deadline, or abandonment (reason: the error to report).
  const stop = new AbortController();
  const onShutdown = (): void => stop.abort(new RegcacheError('ERR_SHUTTING_DOWN'));
  spec.signal.addEventListener('abort', onShutdown, { once: true });
  if (spec.signal.aborted) onShutdown();
  const deadline = setTimeout(() => stop.abort(new RegcacheError('ERR_UPSTREAM_TIMEOUT', `the download did not finish within ${spec.deadlineMs} ms`)), spec.deadlineMs);
  deadline.unref();
  const abandon = (): void => stop.abort(new RegcacheError('ERR_UPSTREAM_TIMEOUT', 'nobody followed this download of unknown length any more'));
  const run: FillSpec = { ...spec, signal: stop.signal };
  let body: Readable | undefined;
  const onStop = (): void => void body?.destroy(stop.signal.reason as Error);
  stop.signal.addEventListener('abort', onStop, { once: true });
  let lease: Lease | undefined;
  let ended = false;
  // A lease won after the fill was stopped (its claim raced the abort) is given back at once.
  const onLease = (l: Lease): void => {
    if (ended) void l.release();
    else lease = l;
  };
  /** Set when the bytes come from another worker's download of the key (server.workers), not from upstream. */
  let relayed = false;
  try {
    const origin = await untilAborted(openOrigin(run, onLease), stop.signal);
    if (origin.kind !== 'source') {
      // Adopted from another process: unchanged when that process renewed the copy this fill was replacing.
      fill.settle(origin.meta, origin.kind === 'renewed' || (spec.replaces !== undefined && origin.meta.sha256 === spec.replaces.sha256));
      return;
    }
    body = origin.source.body;
    relayed = origin.relayed;
    const meta = await pump(fill, run, origin.source, relayed, abandon);
    fill.settle(meta);
    observer.onFillEnd?.(route.key, { ok: true, bytes: meta.size, ms: Date.now() - started, relayed });
  } catch (err) {
    body?.destroy();
    const reason: unknown = stop.signal.reason;
    const error = stop.signal.aborted && reason instanceof RegcacheError ? new RegcacheError(reason.code, reason.message, { cause: err }) : toRegcacheError(err);
    await fill.fail(error);
    observer.onFillEnd?.(route.key, { ok: false, bytes: fill.written, ms: Date.now() - started, error, relayed });
  } finally {
    ended = true;
    clearTimeout(deadline);
    spec.signal.removeEventListener('abort', onShutdown);
    stop.signal.removeEventListener('abort', onStop);
    await lease?.release();
    await fill.finish();
  }
}
