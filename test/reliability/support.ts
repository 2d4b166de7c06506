/**
 * Shared helpers for the reliability tests: a seeded PRNG (every random run
 * prints its seed and can be replayed with RELIABILITY_SEED), an independent
 * check of every object file a store directory holds, and a one-line report
 * of what a test tried, so RELIABILITY.md can quote real counts.
 */
import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createFsStore } from '../../src/storage/fs/fs-store.js';
import type { RegcacheProcess } from '../support/regcache-process.js';
import { listTree } from '../support/file-tree.js';

export { listTree };

/** A small deterministic PRNG (mulberry32). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** Creates a PRNG from a 32-bit seed. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[int(items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    chance: (p) => next() < p,
  };
}

/** The seed for a named random run: RELIABILITY_SEED when set (replay), else fresh; always printed. */
export function seedFor(name: string): number {
  const fromEnv = process.env.RELIABILITY_SEED;
  const seed = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`${name}: seed ${seed} (replay with RELIABILITY_SEED=${seed})`);
  return seed;
}

/** Lowercase hex sha256. */
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Prints what a test tried as one greppable JSON line (`RELIABILITY {…}`). */
export function report(scenario: string, counts: Record<string, unknown>): void {
  console.log(`RELIABILITY ${JSON.stringify({ scenario, ...counts })}`);
}

/** What an independent pass over a store directory found. */
export interface StoreAudit {
  objects: number;
  bytes: number;
  /** Object files that do not parse, or whose body does not hash to their recorded sha256. */
  corrupt: string[];
  /** Files in objects/ that are not object files at all. */
  stray: string[];
  /** key → body sha256 of every sound object. */
  sha: Map<string, string>;
}

const SUFFIX = '~obj';

/**
 * Reads every object file under `<cacheRoot>/objects` through the store API
 * (without init(), which would clean temp files itself) and checks that the
 * body hashes to the sha256 recorded with it.
 */
export async function auditStore(cacheRoot: string): Promise<StoreAudit> {
  const store = createFsStore({ root: cacheRoot });
  const audit: StoreAudit = { objects: 0, bytes: 0, corrupt: [], stray: [], sha: new Map() };
  for (const rel of await listTree(join(cacheRoot, 'objects'))) {
    if (!rel.endsWith(SUFFIX)) {
      audit.stray.push(rel);
      continue;
    }
    const key = rel.slice(0, -SUFFIX.length);
    const got = await store.read(key).catch(() => undefined);
    const actual = got === undefined ? undefined : sha256(got.body);
    if (got === undefined || actual !== got.meta.sha256 || got.body.length !== got.meta.size) {
      audit.corrupt.push(rel);
      continue;
    }
    audit.objects++;
    audit.bytes += got.body.length;
    audit.sha.set(key, actual);
  }
  return audit;
}

/** Temp entries of `<cacheRoot>/tmp` whose writer pid is not `livePid`. */
export async function tempsNotOf(cacheRoot: string, livePid: number | undefined): Promise<string[]> {
  const names = await readdir(join(cacheRoot, 'tmp')).catch(() => []);
  return names.filter((n) => Number(n.split('-')[0]) !== livePid);
}

/** Reads one unlabelled sample (e.g. regcache_fills_in_flight) from Prometheus text. */
export function metricOf(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Stops a regcache child (SIGTERM) and removes the temp dir holding its config. */
export async function stopAndClean(p: RegcacheProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p === undefined) return;
  await p.stop(signal);
  await rm(dirname(p.configFile), { recursive: true, force: true });
}

/** Polls `cond` every 25 ms until it holds; throws naming `what` after `limitMs` (a hang guard, not a timing assertion). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
