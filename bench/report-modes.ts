/**
 * BENCHMARKS.md parts of scenarios 6 (npm: regcache against Verdaccio and
 * nginx) and 7 (OCI blobs against nginx): their rows in the target
 * overview, their sections, and a "what bounds it" note for every missed
 * target, derived from the measurements (CPU of each side, body sizes,
 * what the origin saw).
 */
import type { BenchResults, Status, WrkMedian } from './summary.js';
import { summarizeNpm, summarizeOci, type NpmSummary, type OciSummary } from './summary-modes.js';

const f = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');
const ms = (n: number): string => f(n, n < 10 ? 2 : n < 100 ? 1 : 0);
const x = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
const badge = (s: Status): string => (s === 'PASS' ? '**PASS**' : s === 'MISS' ? '**MISS**' : '—');
const lat = (w: WrkMedian | undefined): string => (w ? `${ms(w.p50Ms)} / ${ms(w.p99Ms)}` : '—');
const errs = (...ws: Array<WrkMedian | undefined>): string => {
  const n = ws.reduce((a, w) => a + (w?.errors ?? 0), 0);
  return n > 0 ? ` ⚠ errors ${n}` : '';
};

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A tarball row's size, from the bytes nginx sent ("275 B", "1.0 MB"). */
function size(w: NpmSummary['wrk'][number]): string {
  const b = w.bodyBytes.nginx ?? w.bodyBytes.regcache ?? Number.NaN;
  return b >= 100_000 ? `${f(b / 1e6, 1)} MB` : `${f(b)} B`;
}

/** Summaries of both scenarios, when they ran. */
export interface ModeSummaries {
  npm: NpmSummary | undefined;
  oci: OciSummary | undefined;
}

export function summarizeModes(res: BenchResults): ModeSummaries {
  return { npm: res.npm ? summarizeNpm(res.npm) : undefined, oci: res.oci ? summarizeOci(res.oci) : undefined };
}

/** Rows for the Targets table (columns: target, measured, status, context). */
export function modeTargetRows(m: ModeSummaries): string[][] {
  const rows: string[][] = [];
  const n = m.npm;
  if (n) {
    const rc = n.ci.find((c) => c.side === 'regcache');
    const vd = n.ci.find((c) => c.side === 'verdaccio');
    const tb = n.wrk.filter((w) => w.kind === 'tarball');
    rows.push(['npm: warm `npm ci` at least as fast as through Verdaccio', `${f(rc?.medianMs ?? Number.NaN)} ms (${x(n.ciRatio)} Verdaccio)`, badge(n.ciStatus), `Verdaccio ${f(vd?.medianMs ?? Number.NaN)} ms`]);
    rows.push(['npm: warm tarballs ≥ 0.9× nginx req/s', tb.map((w) => `${size(w)} c${w.connections}: ${x(w.vsNginx)}`).join(', '), badge(n.tarballStatus), tb.map((w) => `${size(w)} c${w.connections}: nginx ${f(w.nginx?.reqPerSec ?? Number.NaN)} req/s, Verdaccio ${x(w.verdaccio.reqPerSec / (w.nginx?.reqPerSec ?? Number.NaN))}`).join('; ')]);
  }
  const o = m.oci;
  if (o) {
    rows.push(['OCI: warm blobs ≥ 0.9× nginx throughput', o.rows.map((r) => `${r.size} c${r.connections}: ${x(r.ratio)}`).join(', '), badge(o.warmStatus), o.rows.map((r) => `${f(r.nginx.mbPerSec)} MB/s`).join(', ')]);
    rows.push(['OCI: cold blob, N clients at once → exactly one upstream GET', `blob GETs per round: ${o.regcache.zipGetsPerRound.join(', ')}`, badge(o.upstreamOnce), '']);
  }
  return rows;
}

function npmSection(res: BenchResults, n: NpmSummary): string[] {
  const r = res.npm;
  if (!r) return [];
  const out = ['## 6. npm: regcache against Verdaccio and nginx', ''];
  out.push(
    `A project depending on ${r.packages} generated packages (\`generateNpmPackages\`, one version each, a binary dependency tree) installed with npm ${r.versions.npm} (\`--prefer-online --no-audit --no-fund\`, a fresh \`--cache\` per run, isolated user/global config) through regcache's \`npm\` mode (plain HTTP, \`metadata_fresh_for: ${r.freshFor}\`, log level info to a file) and through Verdaccio ${r.versions.verdaccio} (uplink = the same fake origin over plain HTTP, uplink \`maxage: ${r.freshFor}\`, web UI and audit middleware off, logs at warn), each in its own process; nginx serves the origin's tarball files. The wrk rows load one lock-file tarball (small, as generated) and a 1 MB tarball published on the origin only for this (fetched once through each proxy before the load). Each proxy's lock file comes from a first \`npm install\` through it (cold, no lock file). Then one untimed \`npm ci\` per proxy, ${res.settings.npm.ciRuns} timed warm \`npm ci\` per proxy (alternating which goes first), wrk against each server (rotating order each round; packuments with npm's abbreviated \`Accept\`), and ${res.settings.rounds} cold \`npm ci\` of the same lock file per proxy, each through a fresh instance (empty storage; the lock file's URLs moved to its address). "Server CPU" is the proxy's CPU time during the run in % of one core; npm itself uses most of the rest.`,
    '',
  );
  const sideRow = (label: string) => (s: NpmSummary['ci'][number]): string[] => [
    `${label}, ${s.side}`,
    f(s.medianMs),
    s.runsMs.map((v) => f(v)).join(', '),
    `${f(s.upstreamPackuments)}${Number.isFinite(s.upstreamFullPackuments) ? ` (${f(s.upstreamFullPackuments)} full)` : ''} / ${f(s.upstreamTarballs)}`,
    f(s.upstreamMb, 2),
    `${f(s.cpu)}%`,
  ];
  out.push(
    table(['Run', 'Median ms', 'Runs ms', 'Origin packuments / tarballs', 'Origin MB', 'Server CPU'], [
      ...n.lock.map(sideRow('first `npm install` (cold, writes the lock file)')),
      ...n.ci.map(sideRow('warm `npm ci`')),
      ...n.cold.map(sideRow('cold `npm ci` of the lock file')),
    ]),
    '',
  );
  const lockRc = n.lock.find((l) => l.side === 'regcache');
  if (lockRc && lockRc.upstreamFullPackuments > 0 && lockRc.upstreamPackuments > lockRc.upstreamFullPackuments) {
    out.push(
      `On the first \`npm install\`, npm itself asks for both forms of a packument (the full document for the project's direct dependencies, the abbreviated one while building the tree). regcache keeps the two answers apart (\`Vary: Accept\`) and fetched each from the origin (${f(lockRc.upstreamPackuments)} packument requests, ${f(lockRc.upstreamFullPackuments)} of them full); Verdaccio fetched only the full document, and its answer to npm's abbreviated \`Accept\` is larger than regcache's (body bytes in the packument row below).`,
      '',
    );
  }
  out.push(`Warm \`npm ci\`, regcache / Verdaccio: ${x(n.ciRatio)} ${badge(n.ciStatus)} (target ≤ 1.00×).`, '');
  out.push(
    table(
      ['', 'Conc', 'Body bytes (regcache / Verdaccio / nginx)', 'regcache req/s', 'Verdaccio req/s', 'nginx req/s', 'regcache / Verdaccio', 'regcache / nginx', 'p50 / p99 ms regcache', 'Verdaccio', 'nginx', 'CPU regcache (main) / Verdaccio / nginx', 'Target'],
      n.wrk.map((w) => [
        `${w.kind} \`${w.path}\`${errs(w.regcache, w.verdaccio, w.nginx)}`,
        String(w.connections),
        `${f(w.bodyBytes.regcache ?? Number.NaN)} / ${f(w.bodyBytes.verdaccio ?? Number.NaN)} / ${f(w.bodyBytes.nginx ?? Number.NaN)}`,
        f(w.regcache.reqPerSec),
        f(w.verdaccio.reqPerSec),
        f(w.nginx?.reqPerSec ?? Number.NaN),
        x(w.vsVerdaccio),
        x(w.vsNginx),
        lat(w.regcache),
        lat(w.verdaccio),
        lat(w.nginx),
        `${f(w.regcache.cpu)}% (${f(w.regcache.mainCpu)}%) / ${f(w.verdaccio.cpu)}% / ${f(w.nginx?.cpu ?? Number.NaN)}%`,
        w.kind === 'tarball' ? `≥ 0.9× nginx ${badge(w.status)}` : '',
      ]),
    ),
    '',
  );
  return out;
}

function ociSection(res: BenchResults, o: OciSummary): string[] {
  const r = res.oci;
  if (!r) return [];
  const out = ['## 7. OCI blobs: regcache against nginx', ''];
  out.push(
    `The same blob (random bytes, checked identical) from regcache's \`oci\` listener (\`default_policy: immutable\`, plain HTTP, warmed with one GET) and from nginx serving it as a file under the same \`/v2/<repo>/blobs/sha256:<hex>\` path. Upstream: a plain OCI origin (bench/support/oci-origin.ts: \`/v2/\` and blobs by digest, no token flow). Target ≥ 0.9× nginx MB/s on every row.`,
    '',
  );
  out.push(
    table(
      ['Blob', 'Conc', 'regcache MB/s', 'nginx MB/s', 'Ratio', 'regcache p50 / p99 ms', 'nginx p50 / p99 ms', 'regcache CPU (main)', 'nginx CPU', 'Target'],
      o.rows.map((w) => [`${w.size}${errs(w.regcache, w.nginx)}`, String(w.connections), f(w.regcache.mbPerSec), f(w.nginx.mbPerSec), x(w.ratio), lat(w.regcache), lat(w.nginx), `${f(w.regcache.cpu)}% (${f(w.regcache.mainCpu)}%)`, `${f(w.nginx.cpu)}%`, badge(w.status)]),
    ),
    '',
  );
  const c = r.cold;
  out.push(
    `**Cold pull.** ${c.clients} clients start at the same instant (one connection each, plain HTTP) for one blob regcache has not cached (${f(c.blobBytes / 1e6)} MB; a new one each round). Origin: ${c.latencyMs} ms before every blob answer, bodies throttled to ${f(c.bytesPerSecond / 1e6)} MB/s per response. Baseline: one client straight from the origin. Medians across rounds of each round's p50/max.`,
    '',
    table(
      ['', 'Upstream blob GETs (per round)', 'First byte p50 / max ms', 'Last byte p50 / max ms', 'Delivered MB/s (all clients)', 'Failed clients', 'Server CPU', 'Exactly one upstream GET'],
      [o.direct, o.regcache].map((s) => [
        s.side === 'direct' ? 'direct from origin (1 client)' : 'regcache',
        s.zipGetsPerRound.join(', '),
        `${ms(s.ttfbP50Ms)} / ${ms(s.ttfbMaxMs)}`,
        `${ms(s.ttlbP50Ms)} / ${ms(s.ttlbMaxMs)}`,
        f(s.deliveredMbPerSec),
        String(s.failures),
        s.side === 'direct' ? '' : `${f(s.cpu)}%`,
        s.side === 'direct' ? '' : badge(o.upstreamOnce),
      ]),
    ),
    '',
  );
  return out;
}

/** Sections 6 and 7 (empty when neither ran). */
export function modeSections(res: BenchResults, m: ModeSummaries): string[] {
  return [...(m.npm ? npmSection(res, m.npm) : []), ...(m.oci ? ociSection(res, m.oci) : [])];
}

const n0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');

function cpuSentence(rc: WrkMedian, other: WrkMedian, otherName: string): string {
  const saturated = Number.isFinite(rc.mainCpu) && rc.mainCpu >= 85;
  return saturated
    ? `regcache's main thread was saturated (${n0(rc.mainCpu)}% of a core, ${n0(rc.cpu)}% all threads) while ${otherName} used ${n0(other.cpu)}%: regcache is CPU-bound on its one JavaScript thread per request, and ${otherName} (${otherName === 'nginx' ? 'one worker per core, sendfile(2)' : 'also one Node thread'}) is not; \`server.workers\` adds processes (see scenarios 1–2).`
    : `regcache's main thread was at ${n0(rc.mainCpu)}% of a core (${n0(rc.cpu)}% all threads), ${otherName} at ${n0(other.cpu)}%: not saturated, so the time goes to waiting (file reads on the libuv pool, socket backpressure) or to wrk and other processes sharing the 2 cores.`;
}

/** One note per missed target of scenarios 6 and 7. */
export function modeNotes(res: BenchResults, m: ModeSummaries): string[] {
  const notes: string[] = [];
  const n = m.npm;
  if (n && n.ciStatus === 'MISS') {
    const rc = n.ci.find((c) => c.side === 'regcache');
    const vd = n.ci.find((c) => c.side === 'verdaccio');
    const per = rc && vd ? (rc.medianMs - vd.medianMs) / (res.npm?.packages ?? Number.NaN) : Number.NaN;
    notes.push(
      `Warm \`npm ci\`: ${n0(rc?.medianMs ?? Number.NaN)} ms through regcache vs ${n0(vd?.medianMs ?? Number.NaN)} ms through Verdaccio (${x(n.ciRatio)}), ${per.toFixed(1)} ms per package. During a run regcache used ${n0(rc?.cpu ?? Number.NaN)}% of a core and Verdaccio ${n0(vd?.cpu ?? Number.NaN)}%: both proxies wait most of the time while npm (resolving the lock file, extracting ${res.npm?.packages ?? '?'} tarballs, writing node_modules) uses the 2 cores, so the wall time is mostly npm's and the gap is the time each request takes as npm sees it, plus run-to-run noise: regcache ${rc?.runsMs.map((v) => n0(v)).join(', ')} ms, Verdaccio ${vd?.runsMs.map((v) => n0(v)).join(', ')} ms. Each proxy's cost per request under load is in the tarball rows of section 6.`,
    );
  }
  for (const w of n?.wrk.filter((row) => row.status === 'MISS') ?? []) {
    if (!w.nginx) continue;
    notes.push(
      `npm tarball ${size(w)} c=${w.connections}: ${n0(w.regcache.reqPerSec)} vs nginx ${n0(w.nginx.reqPerSec)} req/s (${x(w.vsNginx)}; Verdaccio ${n0(w.verdaccio.reqPerSec)}). ` +
        ((w.bodyBytes.nginx ?? 0) < 100_000
          ? 'A request-rate test rather than a bandwidth one: every request costs regcache the HTTP parse, routing, the store lookup, the request log line and metrics on one JavaScript thread. '
          : 'nginx sends the file with sendfile(2) (zero-copy), regcache reads each chunk into a Buffer and writes it to the socket, as in scenario 1. ') +
        cpuSentence(w.regcache, w.nginx, 'nginx'),
    );
  }
  const o = m.oci;
  for (const w of o?.rows.filter((row) => row.status === 'MISS') ?? []) {
    notes.push(
      `OCI blob ${w.size} c=${w.connections}: ${n0(w.regcache.mbPerSec)} vs ${n0(w.nginx.mbPerSec)} MB/s (${x(w.ratio)}). ${cpuSentence(w.regcache, w.nginx, 'nginx')} nginx sends the file with sendfile(2) (zero-copy), regcache reads each chunk into a Buffer and writes it to the socket, as in scenario 1.`,
    );
  }
  if (o && o.upstreamOnce === 'MISS') {
    notes.push(`OCI cold pull: regcache made ${o.regcache.zipGetsPerRound.join(', ')} upstream GETs of the blob per round (target 1), ${o.regcache.failures} client(s) failed.`);
  }
  return notes;
}
