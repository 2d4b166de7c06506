/**
 * Scenario 7: the oci mode's blobs. Warm: the same blob (1 MB and 50 MB,
 * random bytes, checked identical) from regcache's `oci` listener and from
 * nginx serving it as a static file under the same path, c1 and c16,
 * alternating within each round. Cold: N clients ask at the same instant
 * for one blob regcache has not cached, from an origin with latency and
 * limited bandwidth; counted: upstream GETs of the blob (must be 1), first
 * and last byte of every client, next to one direct download from the
 * origin as the baseline. A new blob each round.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ColdClientsOutput } from '../cold-clients.js';
import { mustGet } from '../support/http-get.js';
import { freePort, startStaticNginx } from '../support/nginx.js';
import { startOciBlobOrigin, type OciBlobOrigin } from '../support/oci-origin.js';
import { cpuPercent, readCpu } from '../support/proc.js';
import { startRegcacheInstance, type RegcacheInstance } from '../support/regcache-proc.js';
import { runWrk, type WrkResult } from '../support/wrk.js';
import { runClients } from './cold-fill.js';
import { roundsOf, sidesFor, type ModeBenchContext } from './context.js';

const REPO = 'bench/blobs';

/** One warm row. */
export interface OciWarmRow {
  size: string;
  connections: number;
  regcache: WrkResult[];
  nginx: WrkResult[];
}

/** One side's cold run in one round. */
export interface OciColdRun {
  round: number;
  side: 'direct' | 'regcache';
  /** GETs of the blob the origin received during the run. */
  upstreamBlobGets: number;
  blobBytes: number;
  output: ColdClientsOutput;
  failures: number;
  serverCpu: number;
}

/** Scenario 7's raw results. */
export interface OciResults {
  rows: OciWarmRow[];
  cold: { clients: number; blobBytes: number; latencyMs: number; bytesPerSecond: number; runs: OciColdRun[] };
}

/** Runs scenario 7 with its own origin, regcache (one `oci` instance, `default_policy: immutable`) and nginx. */
export async function ociBlobs(ctx: ModeBenchContext): Promise<OciResults> {
  const origin = await startOciBlobOrigin();
  const port = await freePort();
  let rc: RegcacheInstance | undefined;
  try {
    rc = await startRegcacheInstance({
      name: 'regcache-oci',
      dir: ctx.work,
      dataDir: join(ctx.work, 'data-oci'),
      tls: false,
      upstreamUrl: origin.url,
      instances: [{ name: 'hub', oci: { bind: `127.0.0.1:${port}`, upstream: origin.url, default_policy: 'immutable' } }],
    });
    const ociUrl = `http://127.0.0.1:${port}`;
    ctx.log(`  oci: origin ${origin.url}, regcache oci listener ${ociUrl}`);
    const rows = await warmRows(ctx, origin, rc, ociUrl);
    const cold = await coldPulls(ctx, origin, rc, ociUrl);
    return { rows, cold };
  } finally {
    await rc?.stop();
    await origin.close();
  }
}

async function warmRows(ctx: ModeBenchContext, origin: OciBlobOrigin, rc: RegcacheInstance, ociUrl: string): Promise<OciWarmRow[]> {
  const { s } = ctx;
  const root = join(ctx.work, 'oci-nginx', 'root');
  const paths: string[] = [];
  for (const size of s.oci.blobSizes) {
    const bytes = randomBytes(size.bytes);
    const { path } = origin.add(REPO, bytes);
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
    paths.push(path);
  }
  const nginx = await startStaticNginx({ dir: join(ctx.work, 'oci-nginx'), workers: s.nginxWorkers, root });
  try {
    for (const path of paths) {
      const fromNginx = await mustGet(`${nginx.url}${path}`);
      const fromRc = await mustGet(`${ociUrl}${path}`);
      if (fromRc.status !== 200 || fromRc.sha256 !== fromNginx.sha256) throw new Error(`regcache (${fromRc.status}) and nginx serve different bytes for ${path}`);
      if (origin.count(path) !== 1) throw new Error(`warm-up of ${path}: ${origin.count(path)} upstream GETs`);
    }
    const rows: OciWarmRow[] = [];
    for (const [i, size] of s.oci.blobSizes.entries()) {
      const path = paths[i] ?? '';
      for (const connections of s.oci.concurrencies) {
        const row: OciWarmRow = { size: size.label, connections, regcache: [], nginx: [] };
        rows.push(row);
        for (const round of roundsOf(s.rounds)) {
          for (const side of sidesFor(round)) {
            const target = side === 'regcache' ? { url: `${ociUrl}${path}`, pids: () => [rc.pid] } : { url: `${nginx.url}${path}`, pids: () => nginx.pids() };
            const r = await runWrk({ url: target.url, connections: row.connections, durationSec: size.durationSec, timeoutSec: s.wrkTimeoutSec, serverPids: target.pids });
            row[side].push(r);
            ctx.log(`  oci blob ${size.label} c=${row.connections} r${round} ${side.padEnd(9)} ${r.mbPerSec.toFixed(0).padStart(6)} MB/s ${r.reqPerSec.toFixed(1).padStart(8)} req/s p99 ${r.p99Ms.toFixed(1)} ms cpu ${r.serverCpu.toFixed(0)}%` + (r.errors + r.statusErrors > 0 ? ` ERRORS ${r.errors}/${r.statusErrors}` : ''));
          }
        }
      }
    }
    const refills = paths.filter((p) => origin.count(p) !== 1);
    if (refills.length > 0) throw new Error(`warm blobs fetched upstream again during the load: ${refills.join(', ')}`);
    return rows;
  } finally {
    await nginx.stop();
  }
}

async function coldPulls(ctx: ModeBenchContext, origin: OciBlobOrigin, rc: RegcacheInstance, ociUrl: string): Promise<OciResults['cold']> {
  const { s } = ctx;
  const o = s.oci;
  origin.shape.latencyMs = o.coldLatencyMs;
  origin.shape.bytesPerSecond = o.coldBytesPerSecond;
  const runs: OciColdRun[] = [];
  for (const round of roundsOf(s.rounds)) {
    const bytes = randomBytes(o.coldBytes);
    const { path } = origin.add(REPO, bytes);
    const measure = async (side: OciColdRun['side'], url: string, clients: number, pids: number[]): Promise<void> => {
      const before = origin.count(path);
      const cpu0 = readCpu(pids);
      const output = await runClients(url, clients, undefined);
      const cpu = cpuPercent(cpu0, readCpu(pids));
      const failures = output.clients.filter((c) => c.status !== 200 || c.bytes !== bytes.length || c.error !== undefined).length;
      runs.push({ round, side, upstreamBlobGets: origin.count(path) - before, blobBytes: bytes.length, output, failures, serverCpu: cpu.total });
      const last = Math.max(...output.clients.map((c) => c.lastByteMs));
      ctx.log(`  oci cold r${round} ${side.padEnd(8)} clients=${clients} upstream blob GETs=${origin.count(path) - before} last byte ${last.toFixed(0)} ms failures=${failures}`);
    };
    await measure('direct', `${origin.url}${path}`, 1, []);
    await measure('regcache', `${ociUrl}${path}`, o.coldClients, [rc.pid]);
  }
  return { clients: o.coldClients, blobBytes: o.coldBytes, latencyMs: o.coldLatencyMs, bytesPerSecond: o.coldBytesPerSecond, runs };
}
