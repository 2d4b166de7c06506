/**
 * Turns raw rounds into the figures the report shows: medians across
 * rounds, regcache/nginx ratios and PASS/MISS against the targets.
 * Kept apart from the Markdown so latest.json carries the same numbers.
 */
import type { ColdResults, ColdRun } from './scenarios/cold-fill.js';
import type { NpmResults } from './scenarios/npm-registry.js';
import type { OciResults } from './scenarios/oci-blobs.js';
import type { ProfileResult } from './scenarios/profile.js';
import type { StartupResults } from './scenarios/startup.js';
import type { InitMode, InitRun } from './scenarios/terraform-init.js';
import type { ArtifactResults } from './scenarios/warm-artifacts.js';
import type { MetadataRow } from './scenarios/warm-metadata.js';
import type { BenchSettings } from './support/settings.js';
import { max, median, percentile, ratio } from './support/stats.js';
import type { MachineInfo, Versions } from './support/tools.js';
import type { WrkResult } from './support/wrk.js';

/** Status of a row against its target; 'n/a' when no target applies or data is missing. */
export type Status = 'PASS' | 'MISS' | 'n/a';

const status = (ok: boolean | undefined): Status => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS');

/** Medians of one side's wrk rounds. */
export interface WrkMedian {
  reqPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpu: number;
  mainCpu: number;
  errors: number;
}

/** Medians across rounds; latencies only from rounds in which at least one request completed. */
export function wrkMedian(rs: readonly WrkResult[]): WrkMedian {
  const done = rs.filter((r) => r.requests > 0);
  return {
    reqPerSec: median(rs.map((r) => r.reqPerSec)),
    mbPerSec: median(rs.map((r) => r.mbPerSec)),
    p50Ms: median(done.map((r) => r.p50Ms)),
    p99Ms: median(done.map((r) => r.p99Ms)),
    cpu: median(rs.map((r) => r.serverCpu)),
    mainCpu: median(rs.map((r) => r.serverMainCpu)),
    errors: rs.reduce((a, r) => a + r.errors + r.statusErrors, 0),
  };
}

/** A scenario-1 or scenario-2 row summarized. */
export interface CompareRow {
  label: string;
  proto: string;
  connections: number;
  regcache: WrkMedian;
  nginx: WrkMedian;
  ratio: number;
  status: Status;
  /** Scenario 2 only: bare Node, one process and two (see bench/support/bare-node.ts). */
  node1?: WrkMedian;
  node2?: WrkMedian;
  /** regcache with server.workers: 2 (rows that have bare Node sides, from round 7 on). */
  regcache2?: WrkMedian;
  /** regcache2 against the same target as `status`. */
  ratio2?: number;
  status2?: Status;
}

/** Medians of the bare Node sides and of regcache with workers, when the row has them. */
function bareMedians(row: { node1?: WrkResult[]; node2?: WrkResult[]; regcache2?: WrkResult[] }): Pick<CompareRow, 'node1' | 'node2' | 'regcache2'> {
  return {
    ...(row.node1 && row.node1.length > 0 ? { node1: wrkMedian(row.node1) } : {}),
    ...(row.node2 && row.node2.length > 0 ? { node2: wrkMedian(row.node2) } : {}),
    ...(row.regcache2 && row.regcache2.length > 0 ? { regcache2: wrkMedian(row.regcache2) } : {}),
  };
}

export function summarizeArtifacts(a: ArtifactResults, largeLabel: string): CompareRow[] {
  return a.rows.map((row) => {
    const rc = wrkMedian(row.regcache);
    const ng = wrkMedian(row.nginx);
    const r = ratio(rc.mbPerSec, ng.mbPerSec);
    const bare = bareMedians(row);
    const r2 = bare.regcache2 ? ratio(bare.regcache2.mbPerSec, ng.mbPerSec) : undefined;
    return {
      label: row.size,
      proto: row.proto,
      connections: row.connections,
      regcache: rc,
      nginx: ng,
      ratio: r,
      status: row.size === largeLabel ? status(Number.isFinite(r) ? r >= 0.9 : undefined) : 'n/a',
      ...bare,
      ...(r2 !== undefined ? { ratio2: r2, status2: status(Number.isFinite(r2) ? r2 >= 0.9 : undefined) } : {}),
    };
  });
}

export function summarizeMetadata(rows: readonly MetadataRow[]): CompareRow[] {
  return rows.map((row) => {
    const rc = wrkMedian(row.regcache);
    const ng = wrkMedian(row.nginx);
    const r = ratio(rc.reqPerSec, ng.reqPerSec);
    const ok = Number.isFinite(r) ? r >= 0.5 && rc.p99Ms < 10 : undefined;
    const bare = bareMedians(row);
    const rc2 = bare.regcache2;
    const r2 = rc2 ? ratio(rc2.reqPerSec, ng.reqPerSec) : undefined;
    const ok2 = rc2 && r2 !== undefined && Number.isFinite(r2) ? r2 >= 0.5 && rc2.p99Ms < 10 : undefined;
    return {
      label: row.file,
      proto: row.proto,
      connections: row.connections,
      regcache: rc,
      nginx: ng,
      ratio: r,
      status: row.connections === 16 ? status(ok) : 'n/a',
      ...bare,
      ...(r2 !== undefined ? { ratio2: r2, status2: row.connections === 16 ? status(ok2) : 'n/a' } : {}),
    };
  });
}

/** One side of the cold fill summarized across rounds (medians of per-round figures). */
export interface ColdSide {
  side: ColdRun['side'];
  zipGetsPerRound: number[];
  upstreamMb: number;
  upstreamRequests: number;
  ttfbP50Ms: number;
  ttfbMaxMs: number;
  ttlbP50Ms: number;
  ttlbMaxMs: number;
  /** Bytes delivered to all clients / time until the last one finished, MB/s. */
  deliveredMbPerSec: number;
  failures: number;
  cpu: number;
}

export interface ColdSummary {
  sides: ColdSide[];
  firstByteLimitMs: number;
  lastByteLimitMs: number;
  checks: Array<{ side: string; upstreamOnce: Status; firstByte: Status; lastByte: Status }>;
}

/** One cold-fill side across rounds (also used for scenario 7's cold pull). */
export function coldSide(runs: readonly ColdRun[], side: ColdRun['side']): ColdSide {
  const mine = runs.filter((r) => r.side === side);
  const per = (f: (r: ColdRun) => number): number => median(mine.map(f));
  const ttfb = (r: ColdRun): number[] => r.output.clients.map((c) => c.firstByteMs);
  const ttlb = (r: ColdRun): number[] => r.output.clients.map((c) => c.lastByteMs);
  return {
    side,
    zipGetsPerRound: mine.map((r) => r.upstreamZipGets),
    upstreamMb: per((r) => (r.upstreamZipGets * r.zipBytes) / 1e6),
    upstreamRequests: per((r) => r.upstreamRequests),
    ttfbP50Ms: per((r) => percentile(ttfb(r), 50)),
    ttfbMaxMs: per((r) => max(ttfb(r))),
    ttlbP50Ms: per((r) => percentile(ttlb(r), 50)),
    ttlbMaxMs: per((r) => max(ttlb(r))),
    deliveredMbPerSec: per((r) => r.output.clients.reduce((a, c) => a + c.bytes, 0) / 1e6 / (max(ttlb(r)) / 1000)),
    failures: mine.reduce((a, r) => a + r.failures, 0),
    cpu: per((r) => r.serverCpu),
  };
}

export function summarizeCold(c: ColdResults): ColdSummary {
  const sides = (['direct', 'regcache', 'nginx', 'regcache2'] as const).filter((s) => s !== 'regcache2' || c.runs.some((r) => r.side === s)).map((s) => coldSide(c.runs, s));
  const direct = sides[0];
  const firstByteLimitMs = c.latencyMs + 100;
  const lastByteLimitMs = 1.2 * (direct?.ttlbMaxMs ?? Number.NaN);
  const checks = sides.slice(1).map((s) => ({
    side: s.side,
    upstreamOnce: status(s.zipGetsPerRound.length > 0 ? s.zipGetsPerRound.every((n) => n === 1) : undefined),
    firstByte: status(Number.isFinite(s.ttfbMaxMs) ? s.ttfbMaxMs <= firstByteLimitMs && s.failures === 0 : undefined),
    lastByte: status(Number.isFinite(s.ttlbMaxMs) && Number.isFinite(lastByteLimitMs) ? s.ttlbMaxMs <= lastByteLimitMs && s.failures === 0 : undefined),
  }));
  return { sides, firstByteLimitMs, lastByteLimitMs, checks };
}

export interface InitSummary {
  modes: Array<{ mode: InitMode; medianMs: number; runsMs: number[] }>;
  ratio: number;
  status: Status;
}

export function summarizeInit(runs: readonly InitRun[]): InitSummary {
  const modes = (['direct', 'regcache', 'nginx'] as const).map((mode) => {
    const ms = runs.filter((r) => r.mode === mode).map((r) => r.ms);
    return { mode, medianMs: median(ms), runsMs: ms };
  });
  const r = ratio(modes[1]?.medianMs ?? Number.NaN, modes[2]?.medianMs ?? Number.NaN);
  return { modes, ratio: r, status: status(Number.isFinite(r) ? r <= 1.1 : undefined) };
}

export interface ResourceSummary {
  peakRssWarmMb: number;
  peakRssColdMb: number;
  rssWarmStatus: Status;
  rssColdStatus: Status;
  startupEmptyMs: number;
  startupPopulatedMs: number;
  rssAtListenMb: number;
  rssAfterFirstRequestsMb: number;
  startupStatus: Status;
}

export function summarizeResources(a: ArtifactResults | undefined, c: ColdResults | undefined, st: StartupResults | undefined): ResourceSummary {
  const warm = a === undefined ? Number.NaN : Math.max(a.peakRssMb.http, a.peakRssMb.https);
  const cold = c?.peakRssMb ?? Number.NaN;
  const pop = st?.runs.filter((r) => r.store === 'populated') ?? [];
  const startupPopulatedMs = median(pop.map((r) => r.startupMs));
  return {
    peakRssWarmMb: warm,
    peakRssColdMb: cold,
    rssWarmStatus: status(Number.isFinite(warm) ? warm < 150 : undefined),
    rssColdStatus: status(Number.isFinite(cold) ? cold < 150 : undefined),
    startupEmptyMs: median(st?.runs.filter((r) => r.store === 'empty').map((r) => r.startupMs) ?? []),
    startupPopulatedMs,
    rssAtListenMb: median(pop.map((r) => r.rssAtListenMb)),
    rssAfterFirstRequestsMb: median(pop.map((r) => r.rssAfterFirstRequestsMb)),
    startupStatus: status(Number.isFinite(startupPopulatedMs) ? startupPopulatedMs < 1000 : undefined),
  };
}

/** Everything one run produced. */
export interface BenchResults {
  date: string;
  command: string;
  quick: boolean;
  durationSec: number;
  machine: MachineInfo;
  versions: Versions;
  settings: BenchSettings;
  fixtures: { buildSec: number; mirrorSec: number };
  artifacts?: ArtifactResults | undefined;
  metadata?: MetadataRow[] | undefined;
  cold?: ColdResults | undefined;
  init?: InitRun[] | undefined;
  startup?: StartupResults | undefined;
  profiles?: ProfileResult[] | undefined;
  /** Scenario 6 (absent in results from before the npm mode). */
  npm?: NpmResults | undefined;
  /** Scenario 7 (absent in results from before the oci mode). */
  oci?: OciResults | undefined;
  errors: string[];
  /** Machine-wide CPU busy % (all cores) measured for 1 s before each scenario, benchmark idle. */
  backgroundCpu: Array<{ step: string; pct: number }>;
  /** CPU time the hypervisor stole during each scenario, % of all ticks (absent in older results). */
  steal?: Array<{ step: string; pct: number }>;
  /** Niceness of the harness, servers and load generators (-10 when running as root). */
  niceness: number;
}
