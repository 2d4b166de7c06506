/**
 * Before/after table of two saved benchmark runs, for bench/HISTORY.md:
 *
 *   node dist/bench/compare.js bench/results/<before>.json bench/results/latest.json
 *
 * Each cell is regcache's figure with its ratio to nginx measured in the same
 * run, so runs on a quieter or busier machine stay comparable.
 */
import { readFileSync } from 'node:fs';
import { summarizeArtifacts, summarizeCold, summarizeInit, summarizeMetadata, summarizeResources, type BenchResults, type CompareRow } from './summary.js';

const n = (v: number, d = 0): string => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');

function load(path: string): BenchResults {
  return JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
}

function rowOf(rows: CompareRow[], label: string, proto: string, conc: number): CompareRow | undefined {
  return rows.find((r) => r.label === label && r.proto === proto && r.connections === conc);
}

function main(): void {
  const [beforePath, afterPath] = process.argv.slice(2);
  if (beforePath === undefined || afterPath === undefined) {
    process.stderr.write('usage: compare BEFORE.json AFTER.json\n');
    process.exitCode = 2;
    return;
  }
  const runs = [load(beforePath), load(afterPath)];
  const lines = ['| Measure | Before | After |', '| --- | --- | --- |'];
  const add = (measure: string, cell: (r: BenchResults) => string): void => {
    lines.push(`| ${measure} | ${runs.map(cell).join(' | ')} |`);
  };
  const large = (r: BenchResults): string => r.settings.artifactSizes.at(-1)?.label ?? '50 MB';
  for (const [proto, conc] of [['http', 1], ['http', 16], ['http', 64], ['https', 16], ['https', 64]] as const) {
    add(`Warm 50 MB, ${proto.toUpperCase()} c${conc}`, (r) => {
      const row = r.artifacts ? rowOf(summarizeArtifacts(r.artifacts, large(r)), large(r), proto, conc) : undefined;
      return row ? `${n(row.regcache.mbPerSec)} MB/s (${n(row.ratio, 2)}× nginx's ${n(row.nginx.mbPerSec)})` : '—';
    });
  }
  for (const file of ['index.json', '1.0.0.json']) {
    for (const proto of ['http', 'https']) {
      add(`Warm \`${file}\`, ${proto.toUpperCase()} c16`, (r) => {
        const row = r.metadata ? rowOf(summarizeMetadata(r.metadata), file, proto, 16) : undefined;
        return row ? `${n(row.regcache.reqPerSec)} req/s (${n(row.ratio, 2)}×), p99 ${n(row.regcache.p99Ms, 1)} ms` : '—';
      });
    }
  }
  add('Cold fill (100 clients, 200 MB): first byte max', (r) => {
    const c = r.cold ? summarizeCold(r.cold) : undefined;
    const rc = c?.sides.find((s) => s.side === 'regcache');
    const ng = c?.sides.find((s) => s.side === 'nginx');
    return rc ? `${n(rc.ttfbMaxMs)} ms (nginx ${n(ng?.ttfbMaxMs ?? Number.NaN)} ms)` : '—';
  });
  add('Cold fill: last byte max', (r) => {
    const c = r.cold ? summarizeCold(r.cold) : undefined;
    const rc = c?.sides.find((s) => s.side === 'regcache');
    const ng = c?.sides.find((s) => s.side === 'nginx');
    return rc && ng ? `${n(rc.ttlbMaxMs / 1000, 1)} s (${n(rc.ttlbMaxMs / ng.ttlbMaxMs, 2)}× nginx's ${n(ng.ttlbMaxMs / 1000, 1)} s)` : '—';
  });
  add('`terraform init`, 10 providers, warm', (r) => {
    const i = r.init ? summarizeInit(r.init) : undefined;
    return i ? `${n(i.modes[1]?.medianMs ?? Number.NaN)} ms (${n(i.ratio, 2)}× static mirror)` : '—';
  });
  add('Peak RSS, scenario 1 / scenario 3', (r) => {
    const s = summarizeResources(r.artifacts, r.cold, r.startup);
    return `${n(s.peakRssWarmMb)} / ${n(s.peakRssColdMb)} MB`;
  });
  add('Startup, 1,000 cached providers', (r) => `${n(summarizeResources(r.artifacts, r.cold, r.startup).startupPopulatedMs)} ms`);
  add('CPU stolen by the hypervisor (per scenario)', (r) => (r.steal ? r.steal.map((s) => `${n(s.pct)}%`).join(', ') : 'not recorded'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
