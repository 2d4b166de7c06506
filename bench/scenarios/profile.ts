/**
 * CPU profiles of regcache under warm load (`node --cpu-prof`), one process
 * per workload so each profile shows one hot path. Runs on a copy of the
 * warm TLS instance's storage (processes may share a cache directory), after
 * the timed scenarios, so profiling overhead never touches the figures.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { metadataPaths, regcacheZipPath, sizeType } from '../fixtures.js';
import { mustGet } from '../support/http-get.js';
import { startRegcacheInstance } from '../support/regcache-proc.js';
import { runWrk, type WrkResult } from '../support/wrk.js';
import type { BenchContext } from './context.js';

/** A function (or pseudo-frame like "(garbage collector)") and its share of non-idle time. */
export interface Frame {
  name: string;
  where: string;
  pct: number;
}

/** One profiled workload. */
export interface ProfileResult {
  workload: string;
  wrk: WrkResult;
  /** % of sampled time outside "(idle)". */
  busyPct: number;
  top: Frame[];
  /** Self time grouped by origin: regcache src, node internals by module, packages, pseudo-frames. */
  byArea: Array<{ area: string; selfPct: number }>;
  /** regcache functions by inclusive time (self + callees), % of non-idle time. */
  inclusive: Frame[];
  file: string;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

type CallFrame = CpuProfile['nodes'][number]['callFrame'];

const whereOf = (cf: CallFrame): string => (cf.url === '' ? '' : `${cf.url.replace(/^file:\/\/.*\/dist\//, '')}:${cf.lineNumber + 1}`);

function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const src = /\/dist\/(src\/[^:]+)$/.exec(url);
  if (src?.[1]) return `regcache ${src[1].replace(/\.js$/, '.ts')}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return `package ${pkg[1]}`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node internal/').replace(/^node:/, 'node ');
  return url;
}

/**
 * Summarizes a .cpuprofile as % of non-idle time: top self-time frames, self
 * time per area, and regcache functions by inclusive time. Samples in the
 * first `skipMs` (process start-up and warm-up) are left out.
 */
export function summarizeProfile(p: CpuProfile, skipMs = 0, topN = 15): Pick<ProfileResult, 'busyPct' | 'top' | 'byArea' | 'inclusive'> {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const frames = new Map<string, { name: string; where: string; us: number }>();
  const incl = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let elapsed = 0;
  p.samples.forEach((id, i) => {
    const dt = Math.max(0, p.timeDeltas[i] ?? 0);
    elapsed += dt;
    const cf = byId.get(id);
    if (cf === undefined || elapsed < skipMs * 1000) return;
    total += dt;
    if (cf.functionName === '(idle)') {
      idle += dt;
      return;
    }
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at);
      if (f === undefined || !/\/dist\/src\//.test(f.url)) continue;
      const key = `${f.functionName}|${whereOf(f)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = incl.get(key) ?? { name: f.functionName || '(anonymous)', where: whereOf(f), us: 0 };
      e.us += dt;
      incl.set(key, e);
    }
    const where = whereOf(cf);
    const key = `${cf.functionName}|${where}`;
    const f = frames.get(key) ?? { name: cf.functionName || '(anonymous)', where, us: 0 };
    f.us += dt;
    frames.set(key, f);
    const area = areaOf(cf.url, cf.functionName);
    areas.set(area, (areas.get(area) ?? 0) + dt);
  });
  const busy = total - idle;
  const pct = (us: number): number => (busy > 0 ? (us / busy) * 100 : 0);
  const top = [...frames.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((f) => ({ name: f.name, where: f.where, pct: pct(f.us) }));
  const byArea = [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([area, us]) => ({ area, selfPct: pct(us) }));
  const inclusive = [...incl.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((f) => ({ name: f.name, where: f.where, pct: pct(f.us) }));
  return { busyPct: total > 0 ? (busy / total) * 100 : 0, top, byArea, inclusive };
}

/** Profiles the warm hot paths: a large zip over TLS, a small zip over HTTP, `<version>.json` over TLS. */
export async function profileWarm(ctx: BenchContext): Promise<ProfileResult[]> {
  const { s } = ctx;
  const large = s.artifactSizes.length - 1;
  const workloads = [
    { workload: `zip ${s.artifactSizes[large]?.label ?? ''} TLS c=16`, tls: true, path: regcacheZipPath(sizeType(large)) },
    { workload: `zip ${s.artifactSizes[0]?.label ?? ''} HTTP c=64`, tls: false, path: regcacheZipPath(sizeType(0)), connections: 64 },
    { workload: `${metadataPaths(sizeType(0))[1]?.file ?? ''} TLS c=16`, tls: true, path: metadataPaths(sizeType(0))[1]?.regcache ?? '' },
  ];
  const out: ProfileResult[] = [];
  let i = 0;
  for (const w of workloads) {
    const dir = join(ctx.work, `cpu-prof-${++i}`);
    const rc = await startRegcacheInstance({
      name: `regcache-prof-${i}`,
      dir: ctx.work,
      dataDir: ctx.rcTls.dataDir,
      tls: w.tls,
      upstreamUrl: ctx.fx.fast.url,
      caFile: ctx.fx.originsCaFile,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    });
    let wrk: WrkResult;
    let skipMs = 0;
    try {
      const ca = w.tls ? ctx.rcTlsCaPem : undefined;
      await mustGet(`${rc.url}${w.path}`, ca);
      skipMs = Date.now() - rc.spawnedAt;
      wrk = await runWrk({ url: `${rc.url}${w.path}`, connections: w.connections ?? 16, durationSec: s.metadataDurationSec, timeoutSec: s.wrkTimeoutSec, serverPids: () => [rc.pid] });
    } finally {
      await rc.stop();
    }
    const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.cpuprofile'));
    const file = files[0];
    if (file === undefined) {
      ctx.log(`  profile ${w.workload}: no .cpuprofile written`);
      continue;
    }
    const summary = summarizeProfile(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile, skipMs);
    out.push({ workload: w.workload, wrk, ...summary, file: join(dir, file) });
    ctx.log(`  profile ${w.workload}: busy ${summary.busyPct.toFixed(0)}%, top ${summary.top.slice(0, 3).map((f) => `${f.name} ${f.pct.toFixed(1)}%`).join(', ')}`);
  }
  return out;
}
