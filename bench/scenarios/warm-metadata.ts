/**
 * Scenario 2: warm metadata. regcache composes `index.json` and
 * `<version>.json` from its cached registry answers on every request; nginx
 * serves the files `terraform providers mirror` wrote. Same concurrency for
 * both, HTTP and TLS, alternating within each round.
 */
import { metadataPaths, sizeType } from '../fixtures.js';
import { mustGet } from '../support/http-get.js';
import { runWrk, type WrkResult } from '../support/wrk.js';
import { roundsOf, sidesFor, type BenchContext } from './context.js';

/** One table row. */
export interface MetadataRow {
  file: string;
  proto: 'http' | 'https';
  connections: number;
  regcache: WrkResult[];
  nginx: WrkResult[];
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
    }
    await mustGet(`${ctx.nginx.staticHttp}${p.nginx}`);
  }
  const rows: MetadataRow[] = [];
  for (const p of paths) {
    for (const proto of ['http', 'https'] as const) {
      const connections = s.metadataConcurrency;
      const row: MetadataRow = { file: p.file, proto, connections, regcache: [], nginx: [] };
      for (const round of roundsOf(s.rounds)) {
        for (const side of sidesFor(round)) {
          const rc = proto === 'http' ? ctx.rcHttp : ctx.rcTls;
          const url = side === 'regcache' ? `${rc.url}${p.regcache}` : `${proto === 'http' ? ctx.nginx.staticHttp : ctx.nginx.staticHttps}${p.nginx}`;
          const r = await runWrk({
            url,
            connections,
            durationSec: s.metadataDurationSec,
            timeoutSec: s.wrkTimeoutSec,
            serverPids: () => (side === 'regcache' ? [rc.pid] : ctx.nginxPids()),
          });
          row[side].push(r);
          ctx.log(
            `  ${p.file} ${proto} c=${connections} r${round} ${side.padEnd(8)} ${r.reqPerSec.toFixed(0).padStart(7)} req/s p99 ${r.p99Ms.toFixed(2)} ms cpu ${r.serverCpu.toFixed(0)}%` +
              (r.errors + r.statusErrors > 0 ? ` ERRORS ${r.errors}/${r.statusErrors}` : ''),
          );
        }
      }
      rows.push(row);
    }
  }
  return rows;
}
