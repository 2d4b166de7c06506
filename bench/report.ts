/**
 * Renders BENCHMARKS.md from one run's results: machine and versions, the
 * method, a target overview, one table per scenario, CPU profiles and a
 * "what bounds it" note for every missed target.
 */
import { modeNotes, modeSections, modeTargetRows, summarizeModes } from './report-modes.js';
import { boundNotes } from './report-notes.js';
import { median, ratio } from './support/stats.js';
import { summarizeArtifacts, summarizeCold, summarizeInit, summarizeMetadata, summarizeResources, type BenchResults, type CompareRow, type Status } from './summary.js';

/** Formats a number with `digits` decimals; '—' for NaN. */
export function f(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—';
}

const ms = (n: number): string => f(n, n < 10 ? 2 : n < 100 ? 1 : 0);
const x = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
const badge = (s: Status): string => (s === 'PASS' ? '**PASS**' : s === 'MISS' ? '**MISS**' : '—');
const cpu = (total: number, main?: number): string => (main === undefined ? `${f(total)}%` : `${f(total)}% (${f(main)}%)`);

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function compareTable(rows: CompareRow[], bytes: boolean): string {
  const head = ['', 'Proto', 'Conc', 'regcache req/s', 'nginx req/s'];
  if (bytes) head.push('regcache MB/s', 'nginx MB/s');
  head.push(bytes ? 'Ratio (MB/s)' : 'Ratio (req/s)', 'regcache p50 / p99 ms', 'nginx p50 / p99 ms', 'regcache CPU (main thread)', 'nginx CPU', 'Target');
  return table(
    head,
    rows.map((r) => {
      const cells = [r.label, r.proto.toUpperCase(), String(r.connections), f(r.regcache.reqPerSec, r.regcache.reqPerSec < 100 ? 1 : 0), f(r.nginx.reqPerSec, r.nginx.reqPerSec < 100 ? 1 : 0)];
      if (bytes) cells.push(f(r.regcache.mbPerSec), f(r.nginx.mbPerSec));
      cells.push(x(r.ratio), `${ms(r.regcache.p50Ms)} / ${ms(r.regcache.p99Ms)}`, `${ms(r.nginx.p50Ms)} / ${ms(r.nginx.p99Ms)}`, cpu(r.regcache.cpu, r.regcache.mainCpu), cpu(r.nginx.cpu), badge(r.status));
      if (r.regcache.errors + r.nginx.errors > 0) cells[0] += ` ⚠ errors ${r.regcache.errors}/${r.nginx.errors}`;
      return cells;
    }),
  );
}

/** The same-run bare Node comparison for rows that have it (scenarios 1 and 2). */
function bareSection(rows: CompareRow[], bytes: boolean): string[] {
  const bare = rows.filter((r) => r.node1 !== undefined && r.node2 !== undefined);
  if (bare.length === 0) return [];
  const workers = bare.some((r) => r.regcache2 !== undefined);
  const v = (w: CompareRow['regcache'] | undefined): number => (w === undefined ? Number.NaN : bytes ? w.mbPerSec : w.reqPerSec);
  const cell = (w: CompareRow['regcache'] | undefined, nginx: number): string => `${f(v(w))} (${x(ratio(v(w), nginx))}), CPU ${f(w?.cpu ?? Number.NaN)}%`;
  const what = bytes ? "streaming the same file with `fs.createReadStream` (256 KiB reads) piped to the response" : "sending regcache's exact bodies and headers";
  return [
    `**What Node itself reaches, same rounds.** A bare Node server (node:http / node:https, no routing, logging or metrics) ${what}, as one process and as two under node:cluster, loaded like the others (\`bench/support/bare-node.ts\`). The bare Node ratios are the part of the gap that is Node's; the regcache / bare Node columns are the part that is regcache's.${workers ? ' "regcache, 2 workers" is regcache with `server.workers: 2` (a primary and two worker processes behind one port; CPU counts all three).' : ''}`,
    '',
    table(
      ['', 'Proto', 'Conc', `nginx ${bytes ? 'MB/s' : 'req/s'}`, 'bare Node, 1 process', 'bare Node, 2 processes', 'regcache (1 process)', 'regcache / bare Node 1 process', ...(workers ? ['regcache, 2 workers', 'regcache 2 workers / bare Node 2 processes'] : [])],
      bare.map((r) => [
        r.label,
        r.proto.toUpperCase(),
        String(r.connections),
        f(v(r.nginx)),
        cell(r.node1, v(r.nginx)),
        cell(r.node2, v(r.nginx)),
        cell(r.regcache, v(r.nginx)),
        x(ratio(v(r.regcache), v(r.node1))),
        ...(workers ? [r.regcache2 ? `${cell(r.regcache2, v(r.nginx))} ${badge(r.status2 ?? 'n/a')}` : '—', x(ratio(v(r.regcache2), v(r.node2)))] : []),
      ]),
    ),
    '',
  ];
}

/** The whole Markdown document. */
/** Renders BENCHMARKS.md; `history` (bench/HISTORY.md: earlier runs, other measurements) is appended as written. */
export function renderReport(res: BenchResults, history?: string): string {
  const s = res.settings;
  const largeLabel = s.artifactSizes.at(-1)?.label ?? '';
  const art = res.artifacts ? summarizeArtifacts(res.artifacts, largeLabel) : [];
  const meta = res.metadata ? summarizeMetadata(res.metadata) : [];
  const cold = res.cold ? summarizeCold(res.cold) : undefined;
  const init = res.init ? summarizeInit(res.init) : undefined;
  const rsrc = summarizeResources(res.artifacts, res.cold, res.startup);
  const modes = summarizeModes(res);
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(`Generated by \`${res.command}\` on ${res.date} in ${f(res.durationSec / 60, 1)} min.${res.quick ? ' **BENCH_QUICK=1 smoke run: fewer rounds, shorter runs, smaller cold fill; not representative.**' : ''}`, '');
  out.push('## Machine and versions', '');
  out.push(
    table(['', ''], [
      ['CPU', `${res.machine.cores} × ${res.machine.cpuModel}`],
      ['Memory', `${res.machine.memoryGiB} GiB`],
      ['Kernel', res.machine.kernel],
      ['Node.js (regcache)', res.versions.node],
      ['nginx', res.versions.nginx],
      ['wrk', res.versions.wrk],
      ['terraform', res.versions.terraform],
      ['OpenSSL', res.versions.openssl],
    ]),
    '',
  );
  out.push('## Method', '');
  out.push(
    `- Everything runs on this machine over loopback, started and stopped by the harness: two fake origin registries (test/fakes; real zips, SHA256SUMS and OpenPGP signatures), regcache via its built CLI with the node flags and environment of \`npm start\` (\`--max-semi-space-size=4\`, glibc's \`MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072\`; fresh storage, self-signed TLS or \`tls: false\`, log level info to a file), and one nginx (\`worker_processes ${s.nginxWorkers}\`, \`sendfile on\`, access log on, \`keepalive_requests 1000000\`) serving a \`terraform providers mirror\` directory and proxying the origin with \`proxy_cache\` + \`proxy_cache_lock\`.`,
    `- Load comes from separate processes: \`wrk -t 2 -c N -d Ns --latency\` (\`-t 1\` at 1 connection, wrk needs connections ≥ threads) with a Lua \`done()\` hook for exact totals; a Node client script for the cold fill. regcache and nginx alternate within each of **${s.rounds}** round(s); tables show medians across rounds.`,
    `- MB = 10^6 bytes. Latencies are per request (wrk). "CPU" is the server's CPU time during the run in % of one core (regcache: all threads, main thread in parentheses; nginx: master + workers). Both servers share the 2 cores with the load generator.`,
    `- Processes run at niceness ${res.niceness} (harness, servers and load generators alike). Machine-wide CPU use by other work, measured for 1 s before each scenario while the benchmark was idle: ${res.backgroundCpu.map((b) => `${b.step.split(':')[0] ?? b.step} ${f(b.pct)}%`).join(', ')}. ${res.steal && res.steal.length > 0 ? ` CPU time stolen by the hypervisor (a shared VM) during each scenario: ${res.steal.map((b) => `${b.step.split(':')[0] ?? b.step} ${f(b.pct)}%`).join(', ')}.` : ''} Figures from a busy shared machine are noisier; ratios (both sides measured back to back) hold up better than absolute numbers.`,
    `- Both TLS servers use an ECDSA P-256 certificate from a private CA (regcache's self-signed one; one made with src/http/self-signed.ts for nginx), and both negotiate TLS 1.3 (nginx with \`ssl_protocols TLSv1.2 TLSv1.3\`; Debian's nginx 1.22 otherwise stops at TLS 1.2, as it did in the runs before round 4). regcache runs with \`terraform.metadata.ttl: 1h\` so warm metadata stays warm for the whole run.`,
    '',
  );
  out.push('## Targets', '');
  const firstCold = cold?.checks.find((c) => c.side === 'regcache');
  const regSide = cold?.sides.find((c) => c.side === 'regcache');
  const largeRows = art.filter((r) => r.label === largeLabel);
  const meta16 = meta.filter((r) => r.connections === 16);
  const worst = (rows: CompareRow[]): Status => (rows.length === 0 ? 'n/a' : rows.some((r) => r.status === 'MISS') ? 'MISS' : 'PASS');
  const ngSide = cold?.sides.find((c) => c.side === 'nginx');
  const ngCold = cold?.checks.find((c) => c.side === 'nginx');
  const direct = cold?.sides.find((c) => c.side === 'direct');
  const large2 = largeRows.filter((r) => r.status2 !== undefined);
  const meta2 = meta16.filter((r) => r.status2 !== undefined);
  const worst2 = (rows: CompareRow[]): Status => (rows.length === 0 ? 'n/a' : rows.some((r) => r.status2 === 'MISS') ? 'MISS' : 'PASS');
  const cold2 = cold?.checks.find((c) => c.side === 'regcache2');
  const cold2Side = cold?.sides.find((c) => c.side === 'regcache2');
  const workersRows: string[][] = [];
  if (large2.length > 0) workersRows.push([`… with \`server.workers: 2\`: warm ${largeLabel} ≥ 0.9×`, large2.map((r) => `${r.proto} c${r.connections}: ${x(r.ratio2 ?? Number.NaN)}`).join(', '), badge(worst2(large2)), '']);
  if (meta2.length > 0) workersRows.push(['… with `server.workers: 2`: warm metadata ≥ 0.5× and p99 < 10 ms', meta2.map((r) => `${r.label} ${r.proto}: ${x(r.ratio2 ?? Number.NaN)}, p99 ${ms(r.regcache2?.p99Ms ?? Number.NaN)} ms`).join('; '), badge(worst2(meta2)), '']);
  if (cold2 && cold2Side) {
    workersRows.push([
      '… with `server.workers: 2`: cold fill (one download / first byte / last byte)',
      `zip GETs ${cold2Side.zipGetsPerRound.join(', ')}; first byte max ${ms(cold2Side.ttfbMaxMs)} ms; last byte max ${ms(cold2Side.ttlbMaxMs)} ms`,
      `${badge(cold2.upstreamOnce)} / ${badge(cold2.firstByte)} / ${badge(cold2.lastByte)}`,
      '',
    ]);
  }
  out.push(
    table(['Target', 'Measured (regcache)', 'Status', 'Same measure, nginx (context)'], [
      [`Warm ${largeLabel} artifacts ≥ 0.9× nginx throughput`, largeRows.map((r) => `${r.proto} c${r.connections}: ${x(r.ratio)}`).join(', '), badge(worst(largeRows)), largeRows.map((r) => `${f(r.nginx.mbPerSec)} MB/s`).join(', ')],
      ['Warm metadata ≥ 0.5× nginx req/s and p99 < 10 ms at c=16', meta16.map((r) => `${r.label} ${r.proto}: ${x(r.ratio)}, p99 ${ms(r.regcache.p99Ms)} ms`).join('; '), badge(worst(meta16)), meta16.map((r) => `p99 ${ms(r.nginx.p99Ms)} ms`).join('; ')],
      ['Cold fill: exactly one upstream download', regSide ? `zip GETs per round: ${regSide.zipGetsPerRound.join(', ')}` : '—', badge(firstCold?.upstreamOnce ?? 'n/a'), ngSide ? `${ngSide.zipGetsPerRound.join(', ')} ${badge(ngCold?.upstreamOnce ?? 'n/a')}` : '—'],
      [`Cold fill: every first byte ≤ upstream latency + 100 ms (${cold ? ms(cold.firstByteLimitMs) : '—'} ms)`, regSide ? `max ${ms(regSide.ttfbMaxMs)} ms (direct download: ${ms(direct?.ttfbMaxMs ?? Number.NaN)} ms)` : '—', badge(firstCold?.firstByte ?? 'n/a'), ngSide ? `max ${ms(ngSide.ttfbMaxMs)} ms ${badge(ngCold?.firstByte ?? 'n/a')}` : '—'],
      [`Cold fill: every last byte ≤ 1.2× one direct download (${cold ? ms(cold.lastByteLimitMs) : '—'} ms)`, regSide ? `max ${ms(regSide.ttlbMaxMs)} ms` : '—', badge(firstCold?.lastByte ?? 'n/a'), ngSide ? `max ${ms(ngSide.ttlbMaxMs)} ms ${badge(ngCold?.lastByte ?? 'n/a')}` : '—'],
      ['terraform init through warm regcache ≤ 1.1× static mirror', init ? x(init.ratio) : '—', badge(init?.status ?? 'n/a'), init ? `${f(init.modes.find((m) => m.mode === 'nginx')?.medianMs ?? Number.NaN)} ms` : '—'],
      ['Peak RSS < 150 MB during scenario 1', `${f(rsrc.peakRssWarmMb)} MB`, badge(rsrc.rssWarmStatus), ''],
      ['Peak RSS < 150 MB during scenario 3', `${f(rsrc.peakRssColdMb)} MB`, badge(rsrc.rssColdStatus), ''],
      [`Startup < 1 s with ${f(res.startup?.providers ?? Number.NaN)} cached providers`, `${ms(rsrc.startupPopulatedMs)} ms`, badge(rsrc.startupStatus), ''],
      ...workersRows,
      ...modeTargetRows(modes),
    ]),
    '',
  );
  if (res.artifacts) {
    out.push('## 1. Warm artifact download', '');
    out.push(`The same zip from regcache (\`/v1/mirror/registry.terraform.io/<ns>/<type>/<ver>/linux_amd64/<file>\`, warmed with one GET) and from nginx's static mirror file; bytes checked identical. wrk duration per run: ${s.artifactSizes.map((a) => `${a.label} ${a.durationSec} s`).join(', ')}. Target applies to the ${largeLabel} rows.`, '');
    out.push(compareTable(art, true), '');
    out.push(...bareSection(art, true));
  }
  if (res.metadata) {
    out.push('## 2. Warm metadata', '');
    out.push(`regcache composes \`index.json\` / \`<version>.json\` per request from cached registry answers; nginx serves the files \`terraform providers mirror\` wrote. ${s.metadataDurationSec} s per run.`, '');
    out.push(compareTable(meta, false), '');
    out.push(...bareSection(meta, false));
  }
  if (res.cold && cold) out.push(...coldSection(res, cold));
  if (init) {
    out.push('## 4. `terraform init` (10 providers, linux_amd64)', '');
    out.push(`Fresh working directory per run, no plugin cache; one untimed warm-up run per mode, then ${s.initRuns} timed run(s) per mode in rotating order.`, '');
    const static_ = init.modes.find((m) => m.mode === 'nginx')?.medianMs ?? Number.NaN;
    out.push(table(['Mode', 'Median ms', 'Runs ms', 'vs nginx static mirror'], init.modes.map((m) => [m.mode === 'direct' ? 'direct from fake registry (host override)' : m.mode === 'regcache' ? 'warm regcache (network mirror, TLS)' : 'nginx static mirror (network mirror, TLS)', f(m.medianMs), m.runsMs.map((v) => f(v)).join(', '), x(m.medianMs / static_)])), '');
  }
  out.push('## 5. Memory and startup', '');
  const st = res.startup;
  out.push(
    table(['Measure', 'Value', 'Target'], [
      ['Peak RSS, scenario 1 (HTTP / TLS instance)', res.artifacts ? `${f(res.artifacts.peakRssMb.http)} / ${f(res.artifacts.peakRssMb.https)} MB` : '—', `< 150 MB ${badge(rsrc.rssWarmStatus)}`],
      ['Peak RSS, scenario 3', `${f(rsrc.peakRssColdMb)} MB`, `< 150 MB ${badge(rsrc.rssColdStatus)}`],
      ...(res.artifacts?.workersPeakRssMb
        ? [['Peak RSS with `server.workers: 2`, scenario 1 (HTTP / TLS instance; primary + 2 workers, each process\'s peak summed)', `${f(res.artifacts.workersPeakRssMb.http)} / ${f(res.artifacts.workersPeakRssMb.https)} MB`, 'none set (the target is for one process)']]
        : []),
      ...(res.cold?.workersPeakRssMb !== undefined ? [['Peak RSS with `server.workers: 2`, scenario 3 (summed as above)', `${f(res.cold.workersPeakRssMb)} MB`, 'none set']] : []),
      ['Cached providers (pulled through regcache once)', st ? `${st.providers} (${st.objectFiles} object files, ${f(st.storeMb, 1)} MB); publishing took ${f(st.publishSec, 1)} s, pulling ${f(st.populateSec, 1)} s` : '—', ''],
      ['Startup, empty store (spawn → "regcache listening")', `${ms(rsrc.startupEmptyMs)} ms`, ''],
      ['Startup, populated store', `${ms(rsrc.startupPopulatedMs)} ms`, `< 1000 ms ${badge(rsrc.startupStatus)}`],
      ['RSS at listening / after first requests (populated)', `${f(rsrc.rssAtListenMb)} / ${f(rsrc.rssAfterFirstRequestsMb)} MB`, ''],
      ['Bare `node` process (spawn → exit) / its RSS', st ? `${ms(st.bareNodeMs)} ms / ${f(st.bareRssMb)} MB` : '—', ''],
      ['First `<version>.json` / zip after restart', st ? `${ms(median(st.runs.filter((r) => r.store === 'populated').map((r) => r.firstVersionJsonMs)))} / ${ms(median(st.runs.filter((r) => r.store === 'populated').map((r) => r.firstZipMs)))} ms` : '—', ''],
    ]),
    '',
  );
  if (st && st.modules.length > 0) {
    out.push('Import cost of each runtime dependency alone in a fresh Node process (median), and of the whole app module graph:', '');
    out.push(table(['Module', 'Import ms', 'RSS after import MB'], st.modules.map((m) => [`\`${m.module}\``, ms(m.importMs), f(m.rssMb)])), '');
  }
  out.push(...modeSections(res, modes));
  if (res.profiles && res.profiles.length > 0) {
    out.push('## CPU profiles (regcache, `node --cpu-prof`)', '');
    out.push('Separate runs after the timed scenarios (profiling slows the process down). Only samples taken while wrk ran count; shares are % of the main thread\'s non-idle time.', '');
    for (const p of res.profiles) {
      out.push(`### ${p.workload}: ${f(p.wrk.reqPerSec)} req/s, ${f(p.wrk.mbPerSec)} MB/s, main thread busy ${f(p.busyPct)}%`, '');
      out.push(table(['Function', 'Where', 'Self %'], p.top.slice(0, 12).map((fr) => [`\`${fr.name}\``, fr.where === '' ? '' : `\`${fr.where}\``, f(fr.pct, 1)])), '');
      out.push(`By area (self): ${p.byArea.map((a) => `${a.area} ${f(a.selfPct, 1)}%`).join(' · ')}`, '');
      if (p.inclusive.length > 0) {
        out.push('', `regcache functions by inclusive time: ${p.inclusive.slice(0, 10).map((fr) => `\`${fr.name}\` (${fr.where}) ${f(fr.pct, 1)}%`).join(' · ')}`, '');
      }
    }
  }
  const notes = [...boundNotes(res, { art, meta, cold, init, rsrc }), ...modeNotes(res, modes)];
  if (notes.length > 0) out.push('## What bounds it (missed targets)', '', ...notes.map((n) => `- ${n}`), '');
  if (res.errors.length > 0) out.push('## Errors during the run', '', ...res.errors.map((e) => `- ${e.split('\n')[0] ?? ''}`), '');
  out.push('## Raw data', '', 'Every round of every run (wrk output included) is in `bench/results/latest.json`; CPU profiles are copied to `bench/results/raw/` (not committed). Re-run with `npm run bench`; `BENCH_QUICK=1` for a smoke run.', '');
  if (history) out.push(history.trimEnd(), '');
  return out.join('\n');
}

function coldSection(res: BenchResults, cold: NonNullable<ReturnType<typeof summarizeCold>>): string[] {
  const c = res.cold;
  if (!c) return [];
  const out = ['## 3. Cold fill', ''];
  out.push(
    `${c.clients} clients start at the same instant (one connection each, ${c.tls ? 'TLS' : 'plain HTTP'} to the server; the server → origin leg is TLS) for one uncached ${f(c.zipBytes / 1e6)} MB zip. Origin: ${c.latencyMs} ms before every answer, bodies throttled to ${f(c.bytesPerSecond / 1e6)} MB/s per response. regcache's \`<version>.json\` is fetched first (as terraform does), so only the zip is cold; nginx proxies the origin's \`/files/\` URL with \`proxy_cache_lock on\` (lock timeout/age raised to 120 s so waiting clients never bypass the cache). Each round uses a new version; medians across rounds of each round's p50/max.`,
    '',
  );
  out.push(
    table(
      ['', 'Upstream zip GETs (per round)', 'Upstream MB', 'Origin requests', 'First byte p50 / max ms', 'Last byte p50 / max ms', 'Delivered MB/s (all clients)', 'Failed clients', 'Server CPU'],
      cold.sides.map((sd) => [
        sd.side === 'direct' ? 'direct from origin (1 client, baseline)' : sd.side === 'regcache2' ? 'regcache, 2 workers' : sd.side,
        sd.zipGetsPerRound.join(', '),
        f(sd.upstreamMb),
        f(sd.upstreamRequests),
        `${ms(sd.ttfbP50Ms)} / ${ms(sd.ttfbMaxMs)}`,
        `${ms(sd.ttlbP50Ms)} / ${ms(sd.ttlbMaxMs)}`,
        f(sd.deliveredMbPerSec),
        String(sd.failures),
        sd.side === 'direct' ? '' : `${f(sd.cpu)}%`,
      ]),
    ),
    '',
  );
  out.push(
    table(
      ['Check', ...cold.checks.map((k) => (k.side === 'regcache2' ? 'regcache, 2 workers' : k.side))],
      [
        ['Exactly one upstream download', ...cold.checks.map((k) => badge(k.upstreamOnce))],
        [`Every first byte ≤ ${ms(cold.firstByteLimitMs)} ms`, ...cold.checks.map((k) => badge(k.firstByte))],
        [`Every last byte ≤ ${ms(cold.lastByteLimitMs)} ms (1.2× direct)`, ...cold.checks.map((k) => badge(k.lastByte))],
      ],
    ),
    '',
  );
  return out;
}
