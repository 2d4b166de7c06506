/**
 * Turns soak samples into the figures RELIABILITY.md quotes (first / last /
 * max of RSS and open descriptors, and whether their level stayed within
 * 20 % after warm-up), writes bench/results/soak.json and
 * replaces the soak section of RELIABILITY.md between its markers.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { LoadTally } from './soak-load.js';
import type { MachineInfo } from './support/tools.js';

/** One sample of the regcache process. */
export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  rssMb: number;
  fds: number;
  fillsInFlight: number | undefined;
  /** V8 heap in use and memory held outside it (Buffers), from prom-client's default metrics. */
  heapUsedMb: number | undefined;
  externalMb: number | undefined;
  requests: number;
}

/** first / last / max of one series, and its level early and late after warm-up. */
export interface SeriesSummary {
  first: number;
  last: number;
  max: number;
  maxAfterWarmup: number;
  /** Median of the first third of the samples taken under load after warm-up. */
  earlyLevel: number;
  /** Median of the last third of the samples taken under load. */
  lateLevel: number;
  /** (lateLevel − earlyLevel) / earlyLevel, in %. */
  growthPct: number;
  /** Late level and the value after the load ended are both at most 20 % above the early level. */
  within20Pct: boolean;
}

/** Everything a soak run produced. */
export interface SoakResult {
  date: string;
  command: string;
  seconds: number;
  warmupSec: number;
  machine: MachineInfo;
  node: string;
  load: LoadTally;
  requestsPerSec: number;
  rss: SeriesSummary;
  fds: SeriesSummary;
  /** Diagnostics only (not part of pass): where RSS growth would come from. */
  heapUsed: SeriesSummary;
  external: SeriesSummary;
  pendingFillsAtEnd: number | undefined;
  maxFillsInFlight: number;
  errorLogLines: number;
  samples: SoakSample[];
  pass: boolean;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/**
 * Summarizes one series. RSS and descriptors swing with garbage collection
 * and in-flight fills, so growth compares levels (medians of the first and
 * last third of the samples under load after warm-up), not single peaks;
 * the value after the load stopped must not exceed the early level either.
 */
export function summarize(samples: readonly SoakSample[], pick: (s: SoakSample) => number, warmupSec: number, loadEndSec: number): SeriesSummary {
  const all = samples.map(pick).filter(Number.isFinite);
  const under = samples.filter((s) => s.t >= warmupSec && s.t <= loadEndSec).map(pick).filter(Number.isFinite);
  const third = Math.max(1, Math.floor(under.length / 3));
  const early = median(under.slice(0, third));
  const late = median(under.slice(-third));
  const last = all.at(-1) ?? Number.NaN;
  const growthPct = Math.round(((late - early) / early) * 1000) / 10;
  return {
    first: all[0] ?? Number.NaN,
    last,
    max: all.length > 0 ? Math.max(...all) : Number.NaN,
    maxAfterWarmup: under.length > 0 ? Math.max(...under) : Number.NaN,
    earlyLevel: early,
    lateLevel: late,
    growthPct,
    within20Pct: late <= early * 1.2 && last <= early * 1.2,
  };
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

/** The Markdown section (without markers). */
export function renderSoak(r: SoakResult): string {
  const ops = Object.entries(r.load.byOp)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `Last run: ${r.date} — \`${r.command}\`, ${r.seconds} s of load (warm-up ${r.warmupSec} s), ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}, Node ${r.node}. **${r.pass ? 'PASS' : 'FAIL'}**.`,
    '',
    '| Figure | Value |',
    '| --- | --- |',
    `| Requests | ${r.load.requests} (${Math.round(r.requestsPerSec)}/s): ${ops} |`,
    `| Cold cycles (purge + concurrent re-download) | ${r.load.coldCycles} |`,
    `| Failures (wrong status, wrong bytes, cut or refused) | **${r.load.failures}** |`,
    `| Bytes received and checked | ${(r.load.bytes / 1e9).toFixed(2)} GB |`,
    `| RSS MB first / last / max | ${f1(r.rss.first)} / ${f1(r.rss.last)} / ${f1(r.rss.max)} |`,
    `| RSS level after warm-up, early → late (median of first / last third under load); max after warm-up | ${f1(r.rss.earlyLevel)} → ${f1(r.rss.lateLevel)} MB (${r.rss.growthPct} %, ${r.rss.within20Pct ? 'within' : '**not** within'} 20 %); ${f1(r.rss.maxAfterWarmup)} MB |`,
    `| Open fds first / last / max | ${r.fds.first} / ${r.fds.last} / ${r.fds.max} |`,
    `| Open fds level after warm-up, early → late; max after warm-up | ${f1(r.fds.earlyLevel)} → ${f1(r.fds.lateLevel)} (${r.fds.growthPct} %, ${r.fds.within20Pct ? 'within' : '**not** within'} 20 %); ${r.fds.maxAfterWarmup} |`,
    `| V8 heap used, level early → late; max (MB, diagnostic) | ${f1(r.heapUsed.earlyLevel)} → ${f1(r.heapUsed.lateLevel)}; ${f1(r.heapUsed.max)} |`,
    `| External (Buffer) memory, level early → late; max (MB, diagnostic) | ${f1(r.external.earlyLevel)} → ${f1(r.external.lateLevel)}; ${f1(r.external.max)} |`,
    `| \`regcache_fills_in_flight\` max during / at the end | ${r.maxFillsInFlight} / **${r.pendingFillsAtEnd ?? 'n/a'}** |`,
    `| Error-level log lines | ${r.errorLogLines} |`,
    '',
    `"First" is before the load starts, "last" after it ended. Samples every 5 s are in \`bench/results/soak.json\`.${r.load.failureSamples.length > 0 ? ` First failures: ${r.load.failureSamples.map((s) => `\`${s}\``).join('; ')}` : ''}`,
  ].join('\n');
}

const BEGIN = '<!-- soak:begin -->';
const END = '<!-- soak:end -->';

/** Writes the JSON result and splices the section into RELIABILITY.md (appended when the markers are missing). */
export async function writeSoakResults(r: SoakResult, jsonPath: string, mdPath: string): Promise<void> {
  await writeFile(jsonPath, `${JSON.stringify(r, null, 2)}\n`);
  const section = `${BEGIN}\n${renderSoak(r)}\n${END}`;
  const md = await readFile(mdPath, 'utf8').catch(() => '# Reliability\n');
  const start = md.indexOf(BEGIN);
  const end = md.indexOf(END);
  const next = start >= 0 && end > start ? `${md.slice(0, start)}${section}${md.slice(end + END.length)}` : `${md.trimEnd()}\n\n## Soak\n\n${section}\n`;
  await writeFile(mdPath, next);
}
