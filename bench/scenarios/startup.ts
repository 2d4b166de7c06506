/**
 * Scenario 5 (second half): startup with many cached providers. Publishes
 * N small providers, pulls each through a fresh regcache once the way
 * terraform would (index.json, <version>.json, zip), then restarts regcache
 * on that storage and measures spawn → "regcache listening" and RSS, plus
 * the first warm request after the restart. An empty-store start is
 * measured first for comparison.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { manyType, NS, PLATFORM, regcacheZipPath, VERSION } from '../fixtures.js';
import { forEachLimit, mustGet } from '../support/http-get.js';
import { moduleCosts, type ModuleCost } from '../support/module-cost.js';
import { memoryOf } from '../support/proc.js';
import { startRegcacheInstance, type RegcacheSpec } from '../support/regcache-proc.js';
import type { BenchContext } from './context.js';

/** One measured start. */
export interface StartupRun {
  store: 'empty' | 'populated';
  startupMs: number;
  rssAtListenMb: number;
  /** RSS after the first warm zip + version.json requests. */
  rssAfterFirstRequestsMb: number;
  firstZipMs: number;
  firstVersionJsonMs: number;
}

/** Scenario 5's startup results. */
export interface StartupResults {
  providers: number;
  publishSec: number;
  populateSec: number;
  objectFiles: number;
  storeMb: number;
  runs: StartupRun[];
  /** Spawn → exit of `node -e ''` (whole process), and its RSS. */
  bareNodeMs: number;
  bareRssMb: number;
  /** Import time and RSS of each dependency alone, and of the whole app. */
  modules: ModuleCost[];
}

async function walkSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await walkSize(full);
      files += sub.files;
      bytes += sub.bytes;
    } else if (e.isFile()) {
      files++;
      bytes += (await stat(full)).size;
    }
  }
  return { files, bytes };
}

/** Runs the startup half of scenario 5 with its own regcache storage. */
export async function startupWithCache(ctx: BenchContext): Promise<StartupResults> {
  const { s, fx } = ctx;
  const n = s.manyProviders;
  const published = performance.now();
  const types = Array.from({ length: n }, (_, i) => manyType(i + 1));
  await forEachLimit(types, 16, (type) => fx.fast.addProvider({ namespace: NS, type, versions: [{ version: VERSION, platforms: [PLATFORM] }] }));
  const publishSec = (performance.now() - published) / 1000;
  ctx.log(`  published ${n} small providers on the fake origin in ${publishSec.toFixed(1)} s`);

  const spec: RegcacheSpec = { name: 'regcache-many', dir: ctx.work, dataDir: join(ctx.work, 'data-many'), tls: true, upstreamUrl: fx.fast.url, caFile: fx.originsCaFile };
  const runs: StartupRun[] = [];
  const measureStart = async (store: StartupRun['store'], probeType: string | undefined): Promise<void> => {
    const rc = await startRegcacheInstance(spec);
    try {
      const ca = await readFile(rc.caPath ?? '', 'utf8');
      const rssAtListenMb = memoryOf(rc.pid).rssMb;
      let firstZipMs = Number.NaN;
      let firstVersionJsonMs = Number.NaN;
      if (probeType !== undefined) {
        firstVersionJsonMs = (await mustGet(`${rc.url}/v1/mirror/registry.terraform.io/${NS}/${probeType}/${VERSION}.json`, ca)).ms;
        firstZipMs = (await mustGet(`${rc.url}${regcacheZipPath(probeType)}`, ca)).ms;
      }
      runs.push({ store, startupMs: rc.startupMs, rssAtListenMb, rssAfterFirstRequestsMb: memoryOf(rc.pid).rssMb, firstZipMs, firstVersionJsonMs });
      ctx.log(`  start (${store} store): ${rc.startupMs} ms to listening, RSS ${rssAtListenMb.toFixed(0)} MB`);
    } finally {
      await rc.stop();
    }
  };

  // First start generates the self-signed CA; not a measurement.
  const first = await startRegcacheInstance(spec);
  await first.stop();
  for (let i = 0; i < s.startupRuns; i++) await measureStart('empty', undefined);

  const rc = await startRegcacheInstance(spec);
  const populated = performance.now();
  try {
    const ca = await readFile(rc.caPath ?? '', 'utf8');
    const base = `${rc.url}/v1/mirror/registry.terraform.io/${NS}`;
    await forEachLimit(types, 16, async (type) => {
      await mustGet(`${base}/${type}/index.json`, ca);
      await mustGet(`${base}/${type}/${VERSION}.json`, ca);
      await mustGet(`${rc.url}${regcacheZipPath(type)}`, ca);
    });
  } finally {
    await rc.stop();
  }
  const populateSec = (performance.now() - populated) / 1000;
  const size = await walkSize(join(spec.dataDir, 'cache', 'objects'));
  ctx.log(`  pulled ${n} providers through regcache in ${populateSec.toFixed(1)} s (${size.files} object files)`);

  for (let i = 0; i < s.startupRuns; i++) await measureStart('populated', types[(i * 7919) % types.length]);
  const costs = await moduleCosts(s.startupRuns);
  ctx.log(`  module import cost: ${costs.modules.map((m) => `${m.module} ${m.importMs.toFixed(0)} ms`).join(', ')}`);
  return { providers: n, publishSec, populateSec, objectFiles: size.files, storeMb: size.bytes / 1e6, runs, ...costs };
}
