/**
 * Scenario 1: warm artifact downloads. The same zip (byte-identical, checked)
 * from regcache's network-mirror URL and from nginx's static mirror file,
 * at several concurrencies, over HTTP and TLS, regcache and nginx
 * alternating within each round. Also records regcache's peak RSS.
 */
import { regcacheZipPath, sizeType, staticZipPath } from '../fixtures.js';
import { mustGet } from '../support/http-get.js';
import { memoryOf, resetPeak, sampleRss } from '../support/proc.js';
import { runWrk, type WrkResult } from '../support/wrk.js';
import { roundsOf, sidesFor, type BenchContext } from './context.js';

/** One table row: every round of both sides. */
export interface ArtifactRow {
  size: string;
  proto: 'http' | 'https';
  connections: number;
  regcache: WrkResult[];
  nginx: WrkResult[];
}

/** Scenario 1's raw results. */
export interface ArtifactResults {
  rows: ArtifactRow[];
  /** Peak RSS (VmHWM after reset, or sampled max) of the regcache processes over the scenario, MB. */
  peakRssMb: { http: number; https: number };
}

/** Warms regcache's copy of every zip and checks it equals the static mirror's. */
async function warm(ctx: BenchContext): Promise<void> {
  for (let i = 0; i < ctx.s.artifactSizes.length; i++) {
    const type = sizeType(i);
    const fromNginx = await mustGet(`${ctx.nginx.staticHttp}${staticZipPath(type)}`);
    for (const [rc, ca] of [[ctx.rcHttp, undefined], [ctx.rcTls, ctx.rcTlsCaPem]] as const) {
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
  const samplers = { http: sampleRss(ctx.rcHttp.pid), https: sampleRss(ctx.rcTls.pid) };
  const rows: ArtifactRow[] = [];
  for (let i = 0; i < s.artifactSizes.length; i++) {
    const size = s.artifactSizes[i];
    if (size === undefined) continue;
    const type = sizeType(i);
    for (const proto of ['http', 'https'] as const) {
      for (const connections of s.concurrencies) {
        const row: ArtifactRow = { size: size.label, proto, connections, regcache: [], nginx: [] };
        for (const round of roundsOf(s.rounds)) {
          for (const side of sidesFor(round)) {
            const rc = proto === 'http' ? ctx.rcHttp : ctx.rcTls;
            const url =
              side === 'regcache'
                ? `${rc.url}${regcacheZipPath(type)}`
                : `${proto === 'http' ? ctx.nginx.staticHttp : ctx.nginx.staticHttps}${staticZipPath(type)}`;
            const r = await runWrk({
              url,
              connections,
              durationSec: size.durationSec,
              timeoutSec: s.wrkTimeoutSec,
              serverPids: () => (side === 'regcache' ? [rc.pid] : ctx.nginxPids()),
            });
            row[side].push(r);
            ctx.log(
              `  ${size.label} ${proto} c=${connections} r${round} ${side.padEnd(8)} ${r.mbPerSec.toFixed(0).padStart(6)} MB/s ${r.reqPerSec.toFixed(1).padStart(8)} req/s p99 ${r.p99Ms.toFixed(1)} ms cpu ${r.serverCpu.toFixed(0)}%` +
                (r.errors + r.statusErrors > 0 ? ` ERRORS ${r.errors}/${r.statusErrors}` : ''),
            );
          }
        }
        rows.push(row);
      }
    }
  }
  const sampled = { http: samplers.http.stop(), https: samplers.https.stop() };
  const peakRssMb = {
    http: peaks.http ? Math.max(memoryOf(ctx.rcHttp.pid).hwmMb, sampled.http) : sampled.http,
    https: peaks.https ? Math.max(memoryOf(ctx.rcTls.pid).hwmMb, sampled.https) : sampled.https,
  };
  return { rows, peakRssMb };
}
