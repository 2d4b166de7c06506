/**
 * Scenarios 6 (npm against Verdaccio and nginx) and 7 (OCI blobs against
 * nginx) summarized: medians across rounds, ratios and PASS/MISS against
 * the issues' targets (issue 18: warm `npm ci` at least as fast as through
 * Verdaccio, warm tarballs ≥ 0.9× nginx; issue 19: warm blobs ≥ 0.9× nginx,
 * one upstream GET for a cold blob however many clients ask).
 */
import type { ColdRun } from './scenarios/cold-fill.js';
import type { NpmResults, NpmWrkRow } from './scenarios/npm-registry.js';
import type { NpmInstallRun, NpmSide } from './scenarios/npm-servers.js';
import type { OciResults } from './scenarios/oci-blobs.js';
import { median, ratio } from './support/stats.js';
import { coldSide, wrkMedian, type ColdSide, type Status, type WrkMedian } from './summary.js';

const status = (ok: boolean | undefined): Status => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS');

/** Medians of one side's npm runs of one kind. */
export interface NpmRunsSide {
  side: NpmSide;
  medianMs: number;
  runsMs: number[];
  upstreamRequests: number;
  upstreamPackuments: number;
  upstreamFullPackuments: number;
  upstreamTarballs: number;
  upstreamMb: number;
  cpu: number;
}

/** One wrk row of scenario 6 summarized. */
export interface NpmWrkSummary {
  kind: NpmWrkRow['kind'];
  path: string;
  connections: number;
  bodyBytes: NpmWrkRow['bodyBytes'];
  regcache: WrkMedian;
  verdaccio: WrkMedian;
  nginx: WrkMedian | undefined;
  /** regcache / Verdaccio, req/s. */
  vsVerdaccio: number;
  /** regcache / nginx, req/s (tarballs). */
  vsNginx: number;
  /** Tarball rows: ≥ 0.9× nginx. */
  status: Status;
}

/** Scenario 6 summarized. */
export interface NpmSummary {
  lock: NpmRunsSide[];
  ci: NpmRunsSide[];
  /** regcache / Verdaccio median warm `npm ci`. */
  ciRatio: number;
  ciStatus: Status;
  wrk: NpmWrkSummary[];
  tarballStatus: Status;
  cold: NpmRunsSide[];
}

function runsSide(runs: readonly NpmInstallRun[], side: NpmSide): NpmRunsSide {
  const mine = runs.filter((r) => r.side === side);
  const per = (f: (r: NpmInstallRun) => number): number => median(mine.map(f));
  return {
    side,
    medianMs: per((r) => r.ms),
    runsMs: mine.map((r) => r.ms),
    upstreamRequests: per((r) => r.upstreamRequests),
    upstreamPackuments: per((r) => r.upstreamPackuments),
    upstreamFullPackuments: per((r) => r.upstreamFullPackuments ?? Number.NaN),
    upstreamTarballs: per((r) => r.upstreamTarballs),
    upstreamMb: per((r) => r.upstreamBytes / 1e6),
    cpu: per((r) => r.serverCpu ?? Number.NaN),
  };
}

const SIDES: NpmSide[] = ['regcache', 'verdaccio'];

export function summarizeNpm(n: NpmResults): NpmSummary {
  const ci = SIDES.map((s) => runsSide(n.ci, s));
  const ciRatio = ratio(ci[0]?.medianMs ?? Number.NaN, ci[1]?.medianMs ?? Number.NaN);
  const wrk = n.wrk.map((row): NpmWrkSummary => {
    const rc = wrkMedian(row.regcache);
    const vd = wrkMedian(row.verdaccio);
    const ng = row.nginx && row.nginx.length > 0 ? wrkMedian(row.nginx) : undefined;
    const vsNginx = ng ? ratio(rc.reqPerSec, ng.reqPerSec) : Number.NaN;
    return {
      kind: row.kind,
      path: row.path,
      connections: row.connections,
      bodyBytes: row.bodyBytes,
      regcache: rc,
      verdaccio: vd,
      nginx: ng,
      vsVerdaccio: ratio(rc.reqPerSec, vd.reqPerSec),
      vsNginx,
      status: row.kind === 'tarball' ? status(Number.isFinite(vsNginx) ? vsNginx >= 0.9 : undefined) : 'n/a',
    };
  });
  const tarballs = wrk.filter((w) => w.kind === 'tarball');
  return {
    lock: SIDES.map((s) => runsSide(n.lockInstalls, s)),
    ci,
    ciRatio,
    ciStatus: status(Number.isFinite(ciRatio) ? ciRatio <= 1 : undefined),
    wrk,
    tarballStatus: tarballs.length === 0 ? 'n/a' : tarballs.some((w) => w.status === 'MISS') ? 'MISS' : 'PASS',
    cold: SIDES.map((s) => runsSide(n.cold, s)),
  };
}

/** One warm blob row of scenario 7. */
export interface OciWarmSummary {
  size: string;
  connections: number;
  regcache: WrkMedian;
  nginx: WrkMedian;
  /** MB/s ratio. */
  ratio: number;
  status: Status;
}

/** Scenario 7 summarized. */
export interface OciSummary {
  rows: OciWarmSummary[];
  warmStatus: Status;
  direct: ColdSide;
  regcache: ColdSide;
  upstreamOnce: Status;
}

export function summarizeOci(o: OciResults): OciSummary {
  const rows = o.rows.map((row): OciWarmSummary => {
    const rc = wrkMedian(row.regcache);
    const ng = wrkMedian(row.nginx);
    const r = ratio(rc.mbPerSec, ng.mbPerSec);
    return { size: row.size, connections: row.connections, regcache: rc, nginx: ng, ratio: r, status: status(Number.isFinite(r) ? r >= 0.9 : undefined) };
  });
  // The cold pull in scenario 3's shape, so its per-side figures come from the same code.
  const runs: ColdRun[] = o.cold.runs.map((r) => ({
    round: r.round,
    side: r.side,
    upstreamZipGets: r.upstreamBlobGets,
    upstreamRequests: r.upstreamBlobGets,
    zipBytes: r.blobBytes,
    output: r.output,
    failures: r.failures,
    serverCpu: r.serverCpu,
  }));
  const regcache = coldSide(runs, 'regcache');
  return {
    rows,
    warmStatus: rows.length === 0 ? 'n/a' : rows.some((r) => r.status === 'MISS') ? 'MISS' : 'PASS',
    direct: coldSide(runs, 'direct'),
    regcache,
    upstreamOnce: status(regcache.zipGetsPerRound.length > 0 ? regcache.zipGetsPerRound.every((g) => g === 1) && regcache.failures === 0 : undefined),
  };
}
