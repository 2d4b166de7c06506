/**
 * One-off measurement: time and peak RSS growth of computing the h1 hash of
 * a cached provider zip (one deflated executable of N MB, as in scenario 3)
 * through the fs store, as regcache does after a fill.
 * Run: npm run build && node --expose-gc dist/bench/h1-memory.js [MB] [runs]
 * Each run is a fresh process (VmHWM is per process), started like
 * `npm start` (same glibc settings and V8 flags). Not a test; prints one line
 * per run and the medians (MB = 10^6 bytes, as in the report).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { h1FromStoredZip } from '../src/mirrors/terraform/h1-store.js';
import { createFsStore } from '../src/storage/fs/fs-store.js';
import { makeProviderZip } from '../test/support/provider-fixtures.js';
import { putObject } from '../test/support/store-objects.js';
import { memoryOf, resetPeak } from './support/proc.js';
import { startNodeCommand } from './support/regcache-proc.js';
import { median } from './support/stats.js';

const MB = 1_000_000;

/** The child: hash the zip once, print `ms rssGrowthMb`. */
async function child(zipFile: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-h1mem-'));
  try {
    const store = createFsStore({ root: dir });
    await store.init();
    await putObject(store, 'p/z.zip', readFileSync(zipFile));
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (!resetPeak(process.pid)) throw new Error('cannot reset VmHWM (/proc/self/clear_refs)');
    const before = memoryOf(process.pid).rssMb;
    const t0 = process.hrtime.bigint();
    const h1 = await h1FromStoredZip(store, 'p/z.zip');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!h1.startsWith('h1:')) throw new Error(`not an h1 hash: ${h1}`);
    console.log(`${ms.toFixed(0)} ${(memoryOf(process.pid).hwmMb - before).toFixed(1)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] ?? '');
  const mb = Number(process.argv[2] ?? 200);
  const runs = Number(process.argv[3] ?? 5);
  const zipFile = join(tmpdir(), `regcache-h1mem-${mb}.zip`);
  if (!existsSync(zipFile)) writeFileSync(zipFile, await makeProviderZip({ type: 'cold', version: '1.0.0', os: 'linux', arch: 'amd64', extraBytes: mb * MB }));
  const start = await startNodeCommand();
  const rows: Array<[number, number]> = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [...start.flags, '--expose-gc', fileURLToPath(import.meta.url), '--child', zipFile], { env: { ...process.env, ...start.env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`run ${i + 1} failed: ${r.stderr}`);
    const [ms, growth] = r.stdout.trim().split(' ').map(Number);
    rows.push([ms ?? Number.NaN, growth ?? Number.NaN]);
    console.log(`run ${i + 1}: ${ms} ms, peak RSS +${growth} MB`);
  }
  console.log(`h1 of a ${mb} MB provider zip, ${runs} runs: median ${median(rows.map((r) => r[0])).toFixed(0)} ms, peak RSS +${median(rows.map((r) => r[1])).toFixed(1)} MB`);
}

await main();
