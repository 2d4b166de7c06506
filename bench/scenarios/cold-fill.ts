/**
 * Scenario 3: cold fill. N clients ask at the same instant for one zip that
 * nobody has cached, from an origin 50 ms away with limited bandwidth.
 * regcache (fresh storage, metadata warmed as `terraform init` would via
 * `<version>.json`) against nginx `proxy_cache` + `proxy_cache_lock`, plus a
 * single direct download from the origin as the baseline. Each round uses a
 * new version, so both sides are cold every time.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COLD_TYPE, coldVersion, NS, zipName } from '../fixtures.js';
import type { ColdClientsOutput } from '../cold-clients.js';
import { runCommand } from '../support/children.js';
import { getUrl, mustGet } from '../support/http-get.js';
import { cpuPercent, memoryOf, readCpu, resetPeak, sampleRss } from '../support/proc.js';
import { startRegcacheInstance, type RegcacheInstance } from '../support/regcache-proc.js';
import { roundsOf, sidesFor, type BenchContext, type Side, type WorkersSide } from './context.js';

const SCRIPT = fileURLToPath(new URL('../cold-clients.js', import.meta.url));

/** One side's run in one round. */
export interface ColdRun {
  round: number;
  side: Side | WorkersSide | 'direct';
  /** GETs of the zip the origin received during the run. */
  upstreamZipGets: number;
  /** All origin requests during the run (metadata included). */
  upstreamRequests: number;
  zipBytes: number;
  output: ColdClientsOutput;
  failures: number;
  serverCpu: number;
}

/** Scenario 3's raw results. */
export interface ColdResults {
  clients: number;
  zipBytes: number;
  latencyMs: number;
  bytesPerSecond: number;
  tls: boolean;
  runs: ColdRun[];
  peakRssMb: number;
  /** With server.workers: 2, the sum of every process's peak (primary and workers), MB. */
  workersPeakRssMb?: number;
}

/** Runs bench/cold-clients.ts in its own process: `clients` downloads of `url` started at the same instant. */
export async function runClients(url: string, clients: number, caFile: string | undefined): Promise<ColdClientsOutput> {
  const args = [SCRIPT, url, String(clients), ...(caFile === undefined ? [] : [caFile])];
  const r = await runCommand(process.execPath, args, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`cold clients failed (${r.code}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as ColdClientsOutput;
}

/** Runs scenario 3 with its own regcache instance (fresh storage dir). */
export async function coldFill(ctx: BenchContext): Promise<ColdResults> {
  const { s, fx } = ctx;
  const tls = s.cold.tls;
  const rc: RegcacheInstance = await startRegcacheInstance({
    name: 'regcache-cold',
    dir: ctx.work,
    dataDir: join(ctx.work, 'data-cold'),
    tls,
    upstreamUrl: fx.slow.url,
    caFile: fx.originsCaFile,
    // BENCH_COLD_PROF=DIR: a CPU profile of the cold instance, for investigating (not part of the report).
    ...(process.env.BENCH_COLD_PROF ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_COLD_PROF}`] } : {}),
  });
  const rcCaFile = rc.caPath;
  const rcCa = tls && rcCaFile !== undefined ? await readFile(rcCaFile, 'utf8') : undefined;
  // The same with server.workers: 2, its clients dealt to both workers: still one download, streamed to all.
  const rc2: RegcacheInstance | undefined =
    s.workers > 1 ? await startRegcacheInstance({ name: 'regcache-cold-workers', dir: ctx.work, dataDir: join(ctx.work, 'data-cold-workers'), tls, upstreamUrl: fx.slow.url, caFile: fx.originsCaFile, workers: s.workers }) : undefined;
  const rc2Ca = tls && rc2?.caPath !== undefined ? await readFile(rc2.caPath, 'utf8') : undefined;
  let workersPeakRssMb: number | undefined;
  const runs: ColdRun[] = [];
  let peakRssMb = Number.NaN;
  const peakReset = resetPeak(rc.pid);
  const sampler = sampleRss(rc.pid, 50);
  try {
    for (const round of roundsOf(s.rounds)) {
      const version = coldVersion(round);
      const file = zipName(COLD_TYPE, version);
      const originPath = `/files/providers/${NS}/${COLD_TYPE}/${version}/${file}`;
      // What terraform asks first: this loads download answers and the signed SHA256SUMS, not the zip.
      const versionJson = `${rc.url}/v1/mirror/registry.terraform.io/${NS}/${COLD_TYPE}/${version}.json`;
      await mustGet(versionJson, rcCa);
      const versionJson2 = rc2 ? `${rc2.url}/v1/mirror/registry.terraform.io/${NS}/${COLD_TYPE}/${version}.json` : undefined;
      // Every worker loads the download answers (connections are dealt round-robin).
      if (rc2 && versionJson2) for (let w = 0; w < 2 * rc2.workers; w++) await mustGet(versionJson2, rc2Ca);
      const zipBytes = fx.slow.zipBytes(NS, COLD_TYPE, version, 'linux', 'amd64').length;
      const measure = async (side: ColdRun['side'], url: string, clients: number, caFile: string | undefined, pids: number[]): Promise<void> => {
        const zipBefore = fx.slow.count(originPath, 'GET');
        const allBefore = fx.slow.requests.length;
        const cpuBefore = readCpu(pids);
        const output = await runClients(url, clients, caFile);
        const cpu = cpuPercent(cpuBefore, readCpu(pids));
        const failures = output.clients.filter((c) => c.status !== 200 || c.bytes !== zipBytes || c.error !== undefined).length;
        runs.push({
          round,
          side,
          upstreamZipGets: fx.slow.count(originPath, 'GET') - zipBefore,
          upstreamRequests: fx.slow.requests.length - allBefore,
          zipBytes,
          output,
          failures,
          serverCpu: cpu.total,
        });
        const last = Math.max(...output.clients.map((c) => c.lastByteMs));
        ctx.log(`  cold r${round} ${side.padEnd(8)} clients=${clients} upstream zip GETs=${runs.at(-1)?.upstreamZipGets} last byte ${last.toFixed(0)} ms failures=${failures}`);
      };
      await measure('direct', `${fx.slow.url}${originPath}`, 1, fx.slow.caFile, []);
      for (const side of sidesFor(round)) {
        if (side === 'regcache') {
          await measure('regcache', `${rc.url}/v1/mirror/registry.terraform.io/${NS}/${COLD_TYPE}/${version}/linux_amd64/${file}`, s.cold.clients, rcCaFile, [rc.pid]);
          await untilH1(versionJson, rcCa);
        } else await measure('nginx', `${tls ? ctx.nginx.proxyHttps : ctx.nginx.proxyHttp}${originPath}`, s.cold.clients, tls ? fx.nginxCaFile : undefined, ctx.nginxPids());
      }
      if (rc2 && versionJson2) {
        const pids = rc2.pids();
        const peaksReset = pids.every((pid) => resetPeak(pid));
        await measure('regcache2', `${rc2.url}/v1/mirror/registry.terraform.io/${NS}/${COLD_TYPE}/${version}/linux_amd64/${file}`, s.cold.clients, rc2.caPath, pids);
        await untilH1(versionJson2, rc2Ca);
        if (peaksReset) workersPeakRssMb = Math.max(workersPeakRssMb ?? 0, pids.reduce((n, pid) => n + memoryOf(pid).hwmMb, 0));
      }
    }
  } finally {
    const sampled = sampler.stop();
    peakRssMb = peakReset ? Math.max(memoryOf(rc.pid).hwmMb, sampled) : sampled;
    await rc.stop();
    await rc2?.stop();
  }
  return {
    clients: s.cold.clients,
    zipBytes: runs[0]?.zipBytes ?? s.cold.bytes,
    latencyMs: s.cold.latencyMs,
    bytesPerSecond: s.cold.bytesPerSecond,
    tls,
    runs,
    peakRssMb,
    ...(workersPeakRssMb !== undefined ? { workersPeakRssMb } : {}),
  };
}

/**
 * Waits until regcache lists the zip's h1 hash: it computes it after the
 * commit, and that CPU work must not overlap the next side's measurement.
 */
async function untilH1(versionJsonUrl: string, ca: string | undefined): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const r = await getUrl(versionJsonUrl, ca).catch(() => undefined);
    if (r !== undefined && r.status === 200 && r.bodyText.includes('"h1:')) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
