/**
 * `npm run bench`: regcache side by side with nginx on this machine. Starts
 * every server itself on loopback (fake origins, regcache, nginx), runs the
 * scenarios with bounded durations, stops everything it started, and writes
 * BENCHMARKS.md plus bench/results/latest.json. BENCH_QUICK=1 for a smoke run and
 * BENCH_ONLY=1,2 for some scenarios (both write to bench/results/dev/, ignored by git);
 * `--report` only re-renders BENCHMARKS.md from the saved results.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareFixtures, type Fixtures } from './fixtures.js';
import { renderReport } from './report.js';
import { coldFill } from './scenarios/cold-fill.js';
import type { BenchContext, ModeBenchContext } from './scenarios/context.js';
import { npmRegistry } from './scenarios/npm-registry.js';
import { ociBlobs } from './scenarios/oci-blobs.js';
import { profileWarm } from './scenarios/profile.js';
import { startupWithCache } from './scenarios/startup.js';
import { terraformInit } from './scenarios/terraform-init.js';
import { warmArtifacts } from './scenarios/warm-artifacts.js';
import { warmMetadata } from './scenarios/warm-metadata.js';
import type { BenchResults } from './summary.js';
import { killAllNow, raisePriority, stopAll } from './support/children.js';
import { startNginx } from './support/nginx.js';
import { backgroundCpu, childPids, stealTicks } from './support/proc.js';
import { startRegcacheInstance } from './support/regcache-proc.js';
import { loadSettings } from './support/settings.js';
import { ensureTools, machineInfo, versions } from './support/tools.js';
import { prepareWrk } from './support/wrk.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const started = performance.now();
const log = (m: string): void => {
  process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
};

let fixtures: Fixtures | undefined;
let work: string | undefined;
let cleaning: Promise<void> | undefined;

/** Stops every process and origin we started and removes the work directory. */
function cleanup(keep: boolean): Promise<void> {
  cleaning ??= (async () => {
    await stopAll();
    await fixtures?.fast.stop().catch(() => undefined);
    await fixtures?.slow.stop().catch(() => undefined);
    if (work !== undefined && !keep) await rm(work, { recursive: true, force: true });
    else if (work !== undefined) log(`work directory kept: ${work}`);
  })();
  return cleaning;
}

async function step<T>(name: string, results: BenchResults, fn: () => Promise<T>): Promise<T | undefined> {
  const bg = await backgroundCpu(1000);
  results.backgroundCpu.push({ step: name, pct: bg });
  log(`${name} (machine ${bg.toFixed(0)}% busy before start)...`);
  const steal0 = stealTicks();
  try {
    return await fn();
  } catch (err) {
    const msg = `${name}: ${(err as Error).stack ?? String(err)}`;
    results.errors.push(msg);
    log(`FAILED ${msg}`);
    return undefined;
  } finally {
    const steal1 = stealTicks();
    const pct = steal1.total > steal0.total ? ((steal1.steal - steal0.steal) / (steal1.total - steal0.total)) * 100 : Number.NaN;
    (results.steal ??= []).push({ step: name, pct });
    log(`${name}: ${pct.toFixed(0)}% of the machine's CPU time was stolen by the hypervisor`);
  }
}

async function main(): Promise<void> {
  const s = loadSettings();
  process.once('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping everything`);
      void cleanup(false).finally(() => process.exit(130));
    });
  }
  await ensureTools();
  work = await mkdtemp(join(tmpdir(), 'regcache-bench-'));
  log(`${s.quick ? 'QUICK smoke run' : 'full run'}; work directory ${work}`);
  const results: BenchResults = {
    date: new Date().toISOString(),
    command: s.quick ? 'BENCH_QUICK=1 npm run bench' : 'npm run bench',
    quick: s.quick,
    durationSec: 0,
    machine: machineInfo(),
    versions: await versions(),
    settings: s,
    fixtures: { buildSec: Number.NaN, mirrorSec: Number.NaN },
    errors: [],
    backgroundCpu: [],
    steal: [],
    niceness: raisePriority() ? -10 : 0,
  };
  try {
    const want = (n: number): boolean => s.only.length === 0 || s.only.includes(n);
    await prepareWrk(work);
    // Scenarios 1–5 and the profiles share the terraform fixtures, regcache instances and nginx.
    if ([1, 2, 3, 4, 5].some(want)) {
      const fx = await prepareFixtures(work, s, log);
      fixtures = fx;
      results.fixtures = { buildSec: fx.buildSec, mirrorSec: fx.mirrorSec };
      const common = { dir: work, upstreamUrl: fx.fast.url, caFile: fx.originsCaFile };
      const rcHttp = await startRegcacheInstance({ ...common, name: 'regcache-http', dataDir: join(work, 'data-http'), tls: false });
      const rcTls = await startRegcacheInstance({ ...common, name: 'regcache-tls', dataDir: join(work, 'data-tls'), tls: true });
      // server.workers: 2, loaded next to the bare Node sides in scenarios 1 and 2.
      const withWorkers = s.workers > 1 && (want(1) || want(2));
      const rcHttp2 = withWorkers ? await startRegcacheInstance({ ...common, name: 'regcache-http-workers', dataDir: join(work, 'data-http-workers'), tls: false, workers: s.workers }) : undefined;
      const rcTls2 = withWorkers ? await startRegcacheInstance({ ...common, name: 'regcache-tls-workers', dataDir: join(work, 'data-tls-workers'), tls: true, workers: s.workers }) : undefined;
      const nginx = await startNginx({
        dir: join(work, 'nginx'),
        workers: s.nginxWorkers,
        mirrorDir: fx.mirrorDir,
        certFile: fx.nginxCertFile,
        keyFile: fx.nginxKeyFile,
        originUrl: fx.slow.url,
        originCaFile: fx.slow.caFile,
      });
      log(`servers up: regcache ${rcHttp.url} and ${rcTls.url}, nginx master ${nginx.pid} with ${childPids(nginx.pid).length} child process(es)`);
      const ctx: BenchContext = {
        s,
        work,
        fx,
        nginx,
        nginxPids: () => [nginx.pid, ...childPids(nginx.pid)],
        rcHttp,
        rcTls,
        rcTlsCaPem: await readFile(rcTls.caPath ?? '', 'utf8'),
        rcHttp2,
        rcTls2,
        rcTls2CaPem: rcTls2 ? await readFile(rcTls2.caPath ?? '', 'utf8') : undefined,
        nginxCaPem: await readFile(fx.nginxCaFile, 'utf8'),
        log,
      };
      if (want(1)) results.artifacts = await step('scenario 1: warm artifact download', results, () => warmArtifacts(ctx));
      if (want(2)) results.metadata = await step('scenario 2: warm metadata', results, () => warmMetadata(ctx));
      await rcHttp2?.stop();
      await rcTls2?.stop();
      if (want(4)) results.init = await step('scenario 4: terraform init', results, () => terraformInit(ctx));
      await rcHttp.stop();
      if (want(3)) results.cold = await step('scenario 3: cold fill', results, () => coldFill(ctx));
      if (want(5)) results.startup = await step('scenario 5: startup with cached providers', results, () => startupWithCache(ctx));
      await rcTls.stop();
      if (s.profile && s.only.length === 0) results.profiles = await step('CPU profiles of the warm hot paths', results, () => profileWarm(ctx));
    }
    const modeCtx: ModeBenchContext = { s, work, log };
    if (want(6)) results.npm = await step('scenario 6: npm against Verdaccio and nginx', results, () => npmRegistry(modeCtx));
    if (want(7)) results.oci = await step('scenario 7: OCI blobs against nginx', results, () => ociBlobs(modeCtx));
  } catch (err) {
    results.errors.push(`setup: ${(err as Error).stack ?? String(err)}`);
    log(`FAILED setup: ${(err as Error).stack ?? String(err)}`);
  } finally {
    results.durationSec = (performance.now() - started) / 1000;
    await saveProfiles(results);
    await cleanup(s.keepWorkDir);
  }
  // A quick or partial run (BENCH_QUICK, BENCH_ONLY) is for iterating: it never replaces the report.
  const partial = s.quick || s.only.length > 0;
  const outDir = partial ? join(ROOT, 'bench', 'results', 'dev') : join(ROOT, 'bench', 'results');
  const reportFile = partial ? join(outDir, 'BENCHMARKS.md') : join(ROOT, 'BENCHMARKS.md');
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(reportFile, renderReport(results, await readHistory()));
  log(`wrote ${reportFile.slice(ROOT.length)} and ${join(outDir, 'latest.json').slice(ROOT.length)} (${results.errors.length} error(s)) in ${(results.durationSec / 60).toFixed(1)} min`);
  if (results.errors.length > 0) process.exitCode = 1;
}

/** Copies CPU profiles out of the work directory before it is removed. */
async function saveProfiles(results: BenchResults): Promise<void> {
  const raw = join(ROOT, 'bench', 'results', 'raw');
  for (const p of results.profiles ?? []) {
    await mkdir(raw, { recursive: true });
    const prefix = `${p.workload.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-`;
    // Only the latest profile per workload is kept.
    for (const old of await readdir(raw)) if (old.startsWith(prefix) && old.endsWith('.cpuprofile')) await rm(join(raw, old), { force: true });
    const dest = join(raw, `${prefix}${basename(p.file)}`);
    await copyFile(p.file, dest).catch(() => undefined);
    p.file = dest.slice(ROOT.length);
  }
}

/** Hand-kept history of earlier runs (bench/HISTORY.md), appended to the generated report. */
function readHistory(): Promise<string | undefined> {
  return readFile(join(ROOT, 'bench', 'HISTORY.md'), 'utf8').catch(() => undefined);
}

/** `node dist/bench/run.js --report`: re-renders BENCHMARKS.md from bench/results/latest.json without measuring. */
async function reportOnly(): Promise<void> {
  const results = JSON.parse(await readFile(join(ROOT, 'bench', 'results', 'latest.json'), 'utf8')) as BenchResults;
  await writeFile(join(ROOT, 'BENCHMARKS.md'), renderReport(results, await readHistory()));
  log('re-rendered BENCHMARKS.md from bench/results/latest.json');
}

await (process.argv.includes('--report') ? reportOnly() : main());
