/**
 * Scenario 2: warm metadata. regcache composes `index.json` and
 * `<version>.json` from its cached registry answers on every request; nginx
 * serves the files `terraform providers mirror` wrote. Same concurrency for
 * both, HTTP and TLS, alternating within each round. Each round also loads
 * a bare Node server (one process, and two under node:cluster) sending
 * regcache's exact bodies and headers: what Node itself reaches here, so the
 * gap to nginx splits into Node's part and regcache's.
 */
import { metadataPaths, sizeType } from '../fixtures.js';
import { startBareSet, type BareSide } from '../support/bare-node.js';
import { mustGet } from '../support/http-get.js';
import { runWrk, type WrkResult } from '../support/wrk.js';
import { roundsOf, sidesFor, targetOf, type BenchContext, type WorkersSide } from './context.js';

/** One table row. */
export interface MetadataRow {
  file: string;
  proto: 'http' | 'https';
  connections: number;
  regcache: WrkResult[];
  nginx: WrkResult[];
  /** Bare Node, one process and two (cluster); absent in results from before round 5. */
  node1?: WrkResult[];
  node2?: WrkResult[];
  /** regcache with server.workers: 2; absent in results from before round 7. */
  regcache2?: WrkResult[];
}

/** Runs scenario 2 (on the 1 MB provider, whose zip and h1 hash are already cached). */
export async function warmMetadata(ctx: BenchContext): Promise<MetadataRow[]> {
  const { s } = ctx;
  const paths = metadataPaths(sizeType(0));
  for (const p of paths) {
    // Twice: the first may still be computing the h1 hash after scenario 1's warm-up fill.
    for (let i = 0; i < 2; i++) {
      await mustGet(`${ctx.rcHttp.url}${p.regcache}`);
      await mustGet(`${ctx.rcTls.url}${p.regcache}`, ctx.rcTlsCaPem);
      // Enough requests that every worker has composed its answers (connections are dealt round-robin).
      if (ctx.rcHttp2) for (let w = 0; w < 2 * ctx.rcHttp2.workers; w++) await mustGet(`${ctx.rcHttp2.url}${p.regcache}`);
      if (ctx.rcTls2) for (let w = 0; w < 2 * ctx.rcTls2.workers; w++) await mustGet(`${ctx.rcTls2.url}${p.regcache}`, ctx.rcTls2CaPem);
    }
    await mustGet(`${ctx.nginx.staticHttp}${p.nginx}`);
  }
  // regcache's exact answers, for the bare Node servers.
  const bodies = new Map<string, Buffer>();
  for (const p of paths) bodies.set(p.regcache, Buffer.from((await mustGet(`${ctx.rcHttp.url}${p.regcache}`)).bodyText));
  const bare = await startBareSet({ dir: ctx.work, name: 'bare-json', bodies, tls: { cert: ctx.fx.nginxCertFile, key: ctx.fx.nginxKeyFile } });
  try {
    for (const proto of ['http', 'https'] as const) {
      for (const side of ['node1', 'node2'] as const) {
        for (const p of paths) await mustGet(`${bare.get(proto, side).url}${p.regcache}`, proto === 'https' ? ctx.nginxCaPem : undefined);
      }
    }
    const rows: MetadataRow[] = [];
    for (const p of paths) {
      for (const proto of ['http', 'https'] as const) {
        const connections = s.metadataConcurrency;
        const row: MetadataRow = { file: p.file, proto, connections, regcache: [], nginx: [], node1: [], node2: [], ...(ctx.rcHttp2 ? { regcache2: [] } : {}) };
        for (const round of roundsOf(s.rounds)) {
          const sides: Array<'regcache' | 'nginx' | BareSide | WorkersSide> = [...sidesFor(round), 'node1', 'node2', ...(ctx.rcHttp2 ? (['regcache2'] as const) : [])];
          for (const side of sides) {
            const target = targetOf(ctx, bare, proto, side, p);
            const r = await runWrk({ url: target.url, connections, durationSec: s.metadataDurationSec, timeoutSec: s.wrkTimeoutSec, serverPids: target.pids });
            (row[side] ??= []).push(r);
            ctx.log(
              `  ${p.file} ${proto} c=${connections} r${round} ${side.padEnd(9)} ${r.reqPerSec.toFixed(0).padStart(7)} req/s p99 ${r.p99Ms.toFixed(2)} ms cpu ${r.serverCpu.toFixed(0)}%` +
                (r.errors + r.statusErrors > 0 ? ` ERRORS ${r.errors}/${r.statusErrors}` : ''),
            );
          }
        }
        rows.push(row);
      }
    }
    return rows;
  } finally {
    await bare.stop();
  }
}
