/**
 * Scenario 1: warm artifact downloads. The same zip (byte-identical, checked)
 * from regcache's network-mirror URL and from nginx's static mirror file,
 * at several concurrencies, over HTTP and TLS, regcache and nginx
 * alternating within each round. The largest size is also loaded from a
 * bare Node server (one process, and two under node:cluster) streaming the
 * same file, for what Node itself reaches here. Also records regcache's peak
 * RSS.
 */
import { join } from 'node:path';
import { regcacheZipPath, sizeType, staticZipPath } from '../fixtures.js';
import { startBareSet, type BareSide } from '../support/bare-node.js';
import { mustGet } from '../support/http-get.js';
import { memoryOf, resetPeak, sampleRss } from '../support/proc.js';
import { runWrk, type WrkResult } from '../support/wrk.js';
import { roundsOf, sidesFor, targetOf, type BenchContext, type WorkersSide } from './context.js';

/** One table row: every round of both sides. */
export interface ArtifactRow {
  size: string;
  proto: 'http' | 'https';
  connections: number;
  regcache: WrkResult[];
  nginx: WrkResult[];
  /** Bare Node, one process and two (largest size only; absent in results from before round 5). */
  node1?: WrkResult[];
  node2?: WrkResult[];
  /** regcache with server.workers: 2 (largest size only; absent in results from before round 7). */
  regcache2?: WrkResult[];
}

/** Scenario 1's raw results. */
export interface ArtifactResults {
  rows: ArtifactRow[];
  /** Peak RSS (VmHWM after reset, or sampled max) of the regcache processes over the scenario, MB. */
  peakRssMb: { http: number; https: number };
  /** With server.workers: 2, the sum of every process's peak (primary and workers), MB. */
  workersPeakRssMb?: { http: number; https: number };
}

/** Warms regcache's copy of every zip and checks it equals the static mirror's. */
async function warm(ctx: BenchContext): Promise<void> {
  for (let i = 0; i < ctx.s.artifactSizes.length; i++) {
    const type = sizeType(i);
    const fromNginx = await mustGet(`${ctx.nginx.staticHttp}${staticZipPath(type)}`);
    for (const [rc, ca] of [[ctx.rcHttp, undefined], [ctx.rcTls, ctx.rcTlsCaPem], [ctx.rcHttp2, undefined], [ctx.rcTls2, ctx.rcTls2CaPem]] as const) {
      if (!rc) continue;
      const got = await mustGet(`${rc.url}${regcacheZipPath(type)}`, ca);
      if (got.sha256 !== fromNginx.sha256) throw new Error(`regcache ${rc.name} and nginx serve different bytes for ${type}`);
    }
  }
}

/** Runs scenario 1. */
export async function warmArtifacts(ctx: BenchContext): Promise<ArtifactResults> {
  const { s } = ctx;
  await warm(ctx);
  const peaks = { http: resetPeak(ctx.rcHttp.pid), https: resetPeak(ctx.rcTls.pid) };
  const workerPids = { http: ctx.rcHttp2?.pids() ?? [], https: ctx.rcTls2?.pids() ?? [] };
  const workerPeaks = [...workerPids.http, ...workerPids.https].every((pid) => resetPeak(pid));
  const samplers = { http: sampleRss(ctx.rcHttp.pid), https: sampleRss(ctx.rcTls.pid) };
  const rows: ArtifactRow[] = [];
  const largest = s.artifactSizes.length - 1;
  const largeType = sizeType(largest);
  const files = new Map([[regcacheZipPath(largeType), join(ctx.fx.mirrorDir, staticZipPath(largeType))]]);
  const bare = await startBareSet({ dir: ctx.work, name: 'bare-files', files, tls: { cert: ctx.fx.nginxCertFile, key: ctx.fx.nginxKeyFile } });
  try {
    for (let i = 0; i < s.artifactSizes.length; i++) {
      const size = s.artifactSizes[i];
      if (size === undefined) continue;
      const type = sizeType(i);
      for (const proto of ['http', 'https'] as const) {
        for (const connections of s.concurrencies) {
          const withWorkers = i === largest && ctx.rcHttp2 !== undefined;
          const row: ArtifactRow = { size: size.label, proto, connections, regcache: [], nginx: [], ...(i === largest ? { node1: [], node2: [] } : {}), ...(withWorkers ? { regcache2: [] } : {}) };
          for (const round of roundsOf(s.rounds)) {
            const sides: Array<'regcache' | 'nginx' | BareSide | WorkersSide> = [...sidesFor(round), ...(i === largest ? (['node1', 'node2'] as const) : []), ...(withWorkers ? (['regcache2'] as const) : [])];
            for (const side of sides) {
              const target = targetOf(ctx, bare, proto, side, { regcache: regcacheZipPath(type), nginx: staticZipPath(type) });
              const r = await runWrk({ url: target.url, connections, durationSec: size.durationSec, timeoutSec: s.wrkTimeoutSec, serverPids: target.pids });
              (row[side] ??= []).push(r);
              ctx.log(
                `  ${size.label} ${proto} c=${connections} r${round} ${side.padEnd(9)} ${r.mbPerSec.toFixed(0).padStart(6)} MB/s ${r.reqPerSec.toFixed(1).padStart(8)} req/s p99 ${r.p99Ms.toFixed(1)} ms cpu ${r.serverCpu.toFixed(0)}%` +
                  (r.errors + r.statusErrors > 0 ? ` ERRORS ${r.errors}/${r.statusErrors}` : ''),
              );
            }
          }
          rows.push(row);
        }
      }
    }
  } finally {
    await bare.stop();
  }
  const sampled = { http: samplers.http.stop(), https: samplers.https.stop() };
  const peakRssMb = {
    http: peaks.http ? Math.max(memoryOf(ctx.rcHttp.pid).hwmMb, sampled.http) : sampled.http,
    https: peaks.https ? Math.max(memoryOf(ctx.rcTls.pid).hwmMb, sampled.https) : sampled.https,
  };
  const sumPeaks = (pids: number[]): number => pids.reduce((n, pid) => n + memoryOf(pid).hwmMb, 0);
  const workersPeakRssMb = ctx.rcHttp2 && workerPeaks ? { http: sumPeaks(workerPids.http), https: sumPeaks(workerPids.https) } : undefined;
  return { rows, peakRssMb, ...(workersPeakRssMb ? { workersPeakRssMb } : {}) };
}
