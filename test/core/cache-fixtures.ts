/**
 * Helpers shared by the cache engine tests: a cache over a real fs store on
 * a fresh temporary root, hand-driven upstream bodies, and draining streams.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { after } from 'node:test';
import { createCache, type Cache, type CacheOptions } from '../../src/core/cache.js';
import { RegcacheError } from '../../src/core/errors.js';
import type { ArtifactRoute } from '../../src/core/route.js';
import type { Store } from '../../src/core/store.js';
import { createFsStore } from '../../src/storage/fs/fs-store.js';

const roots: string[] = [];
const caches: Cache[] = [];
after(async () => {
  for (const c of caches) await c.close();
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

/** A cache over a fresh fs store; `opts` are passed through. */
export async function setupCache(opts: Partial<CacheOptions> = {}): Promise<{ store: Store; cache: Cache; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'regcache-core-'));
  roots.push(root);
  const store = createFsStore({ root });
  await store.init();
  const cache = createCache({ store, ...opts });
  caches.push(cache);
  return { store, cache, root };
}

/** Lowercase hex digest. */
export const digest = (alg: string, b: Buffer): string => createHash(alg).update(b).digest('hex');
export const sha = (b: Buffer): string => digest('sha256', b);

/** Reads a stream to its end. */
export async function readAll(s: Readable | undefined): Promise<Buffer> {
  assert.ok(s);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves after a few milliseconds (lets streams and timers move; never a pass/fail threshold). */
export const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

/** Waits until `cond` holds (checked every tick, up to about 5 s). */
export async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await tick();
  assert.ok(cond(), 'condition reached');
}

/** An artifact route whose upstream bodies the test writes by hand (one PassThrough per fetch). */
export function manualRoute(key: string, expected: Buffer, extra: Partial<ArtifactRoute> = {}, announce = true) {
  const state = { fetches: 0, sources: [] as PassThrough[], get source(): PassThrough | undefined {
    return this.sources.at(-1);
  } };
  const route: ArtifactRoute = {
    kind: 'artifact',
    key,
    contentType: 'application/zip',
    fetch() {
      state.fetches++;
      const body = new PassThrough();
      state.sources.push(body);
      return Promise.resolve(announce ? { body, size: expected.length } : { body });
    },
    verify(s) {
      if (s.sha256 !== sha(expected)) throw new RegcacheError('ERR_INTEGRITY_MISMATCH');
    },
    ...extra,
  };
  return { route, state };
}

/** An artifact route whose upstream answers at once with `bytes`, counting fetches. */
export function readyRoute(key: string, bytes: Buffer, extra: Partial<ArtifactRoute> = {}) {
  const state = { fetches: 0 };
  const route: ArtifactRoute = {
    kind: 'artifact',
    key,
    contentType: 'application/octet-stream',
    fetch() {
      state.fetches++;
      const body = new PassThrough();
      body.end(bytes);
      return Promise.resolve({ body, size: bytes.length });
    },
    verify(s) {
      if (s.sha256 !== sha(bytes)) throw new RegcacheError('ERR_INTEGRITY_MISMATCH');
    },
    ...extra,
  };
  return { route, state };
}

/**
 * Keeps the event loop alive until `p` settles: the engine's own timers
 * (fill deadlines, abandonment) are unref'd, as a server's sockets keep
 * its loop alive, and a test with nothing else pending would end early.
 */
export function holdLoop<T>(p: Promise<T>): Promise<T> {
  const keep = setInterval(() => undefined, 1000);
  return p.finally(() => clearInterval(keep));
}
