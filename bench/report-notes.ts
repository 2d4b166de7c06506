/**
 * "What bounds it" notes for missed targets, derived from the measurements
 * themselves: CPU use of each side during the run, the CPU profile of the
 * matching workload, and (for the cold fill) the aggregate bandwidth the
 * target implies compared with what this machine delivered warm.
 */
import type { BenchResults, ColdSummary, CompareRow, InitSummary, ResourceSummary } from './summary.js';
import type { ProfileResult } from './scenarios/profile.js';
import { max } from './support/stats.js';

const n0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');
const n2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '—');

/** Summaries the notes are derived from. */
export interface NoteInputs {
  art: CompareRow[];
  meta: CompareRow[];
  cold: ColdSummary | undefined;
  init: InitSummary | undefined;
  rsrc: ResourceSummary;
}

function topFrames(p: ProfileResult | undefined, k = 5): string {
  if (!p) return '';
  const frames = p.top.slice(0, k).map((f) => `\`${f.name}\` ${f.pct.toFixed(1)}%`).join(', ');
  const areas = p.byArea.slice(0, 4).map((a) => `${a.area} ${a.selfPct.toFixed(0)}%`).join(', ');
  return ` Profile (${p.workload}): top self time ${frames}; by area ${areas}.`;
}

function cpuBound(r: CompareRow): string {
  const main = r.regcache.mainCpu;
  const saturated = Number.isFinite(main) && main >= 85;
  return saturated
    ? `regcache's main thread was saturated (${n0(main)}% of a core, ${n0(r.regcache.cpu)}% all threads) while nginx used ${n0(r.nginx.cpu)}% across master + workers: regcache is CPU-bound on its single JavaScript thread.`
    : `regcache's main thread was at ${n0(main)}% of a core (${n0(r.regcache.cpu)}% all threads), nginx at ${n0(r.nginx.cpu)}%: not saturated, so time goes to waiting (file reads on the libuv pool, socket backpressure) or to the load generator and other processes competing for the same 2 cores.`;
}

function profileFor(res: BenchResults, kind: 'zip-tls' | 'zip-http' | 'meta'): ProfileResult | undefined {
  const ps = res.profiles ?? [];
  if (kind === 'meta') return ps.find((p) => p.workload.includes('.json'));
  return ps.find((p) => p.workload.startsWith('zip') && p.workload.includes(kind === 'zip-tls' ? 'TLS' : 'HTTP'));
}

/** The same-run bare Node figures of a row, as a sentence (empty when the row has none). */
function bareNode(r: CompareRow, bytes: boolean): string {
  if (!r.node1 || !r.node2) return '';
  const v = (w: CompareRow['regcache']): number => (bytes ? w.mbPerSec : w.reqPerSec);
  const unit = bytes ? 'MB/s' : 'req/s';
  const ng = v(r.nginx);
  const what = bytes ? 'streaming the same file' : 'sending the same bytes with the same headers (no routing, logging or metrics)';
  const workers = r.regcache2
    ? ` With \`server.workers: 2\` regcache reached ${n0(v(r.regcache2))} ${unit} (${n2(v(r.regcache2) / ng)}× nginx, ${n2(v(r.regcache2) / v(r.node2))}× the two-process bare figure, target ${r.status2 ?? 'n/a'}).`
    : '';
  return ` In the same rounds a bare Node server ${what} reached ${n0(v(r.node1))} ${unit} in one process (${n2(v(r.node1) / ng)}× nginx) and ${n0(v(r.node2))} ${unit} in two under node:cluster (${n2(v(r.node2) / ng)}×); regcache reached ${n2(v(r.regcache) / v(r.node1))}× the one-process figure.${workers}`;
}

/** One note per missed target (grouped where rows share a cause). */
export function boundNotes(res: BenchResults, i: NoteInputs): string[] {
  const notes: string[] = [];
  for (const r of i.art.filter((row) => row.status === 'MISS')) {
    const prof = profileFor(res, r.proto === 'https' ? 'zip-tls' : 'zip-http');
    const copy = r.proto === 'http' ? ' nginx sends the file with sendfile(2) (zero-copy, no user-space pass), regcache reads each chunk into a Buffer and writes it to the socket.' : ' Both encrypt in user space (no kTLS), so the difference is per-chunk overhead around the cipher.';
    notes.push(`Warm ${r.label} ${r.proto.toUpperCase()} c=${r.connections}: ${n0(r.regcache.mbPerSec)} vs ${n0(r.nginx.mbPerSec)} MB/s (${n2(r.ratio)}×). ${cpuBound(r)}${copy}${bareNode(r, true)}${topFrames(prof)}`);
  }
  for (const r of i.meta.filter((row) => row.status === 'MISS')) {
    const why = r.regcache.p99Ms >= 10 ? `p99 ${n2(r.regcache.p99Ms)} ms ≥ 10 ms` : `req/s ratio ${n2(r.ratio)}× < 0.5×`;
    notes.push(
      `Warm metadata ${r.label} ${r.proto.toUpperCase()} c=${r.connections}: ${why} (${n0(r.regcache.reqPerSec)} vs ${n0(r.nginx.reqPerSec)} req/s). ${cpuBound(r)}${bareNode(r, false)}${topFrames(profileFor(res, 'meta'))} One Node process against nginx's two workers: a repeated public answer is already sent as a prepared response (no parsing, routing or composing), so what regcache adds to the bare server is its request log line, metrics and the lookup of the prepared answer. More than one process is the only way past the one-process figure: \`server.workers\` (History, round 7).`,
    );
  }
  const c = i.cold;
  const reg = c?.sides.find((s) => s.side === 'regcache');
  const ng = c?.sides.find((s) => s.side === 'nginx');
  const check = c?.checks.find((k) => k.side === 'regcache');
  if (c && reg && check && res.cold) {
    if (check.upstreamOnce === 'MISS') notes.push(`Cold fill: regcache made ${reg.zipGetsPerRound.join(', ')} upstream zip GETs per round instead of 1.`);
    if (check.firstByte === 'MISS') {
      const direct = c.sides.find((s) => s.side === 'direct');
      notes.push(`Cold fill first byte: slowest client ${n0(reg.ttfbMaxMs)} ms (p50 ${n0(reg.ttfbP50Ms)} ms) vs limit ${n0(c.firstByteLimitMs)} ms; a single direct download from the origin got its first byte after ${n0(direct?.ttfbMaxMs ?? Number.NaN)} ms, nginx's clients after up to ${n0(ng?.ttfbMaxMs ?? Number.NaN)} ms (proxy_cache_lock holds them until the whole file is cached). ${reg.failures > 0 ? `${reg.failures} client(s) failed. ` : ''}The first byte needs the upstream headers (${res.cold.latencyMs} ms + TLS handshake) and ${64} KiB past the verification hold-back. Measured on one clock (20 MB, 100 clients): the client process needs about 32 ms to send its 100 requests, upstream answers 65 ms after regcache asked (latency plus a new TLS connection to the download host), and handing the first bytes to 100 sockets takes another 4–38 ms on the two shared cores (see History, round 2). With a single client the same cold fill gets its first byte as fast as a direct download (69–82 ms against 70–73 ms, three rounds, History round 5): the excess is the work for 100 clients on two cores shared with the client process and the origin. A CPU profile of that moment shows 17 ms of request handling for the 100 requests, 50 ms idle while upstream answers, then the fan-out of headers and first bytes to 100 sockets. So the margin depends on the machine's speed: on a fast machine (round 5's final run, direct download 70–73 ms) the slowest client was within 130–154 ms; on the slower one of round 6 (direct 74–95 ms), 12 rounds of a 20 MB fill gave per-round maxima with a median of 193 ms for this round's code and 233 ms for round 5's, run alternately (History, round 6).`);
    }
    if (check.lastByte === 'MISS') {
      const totalMb = (res.cold.clients * res.cold.zipBytes) / 1e6;
      const needed = totalMb / (c.lastByteLimitMs / 1000);
      const bestWarm = max(i.art.filter((r) => r.proto === (res.cold?.tls ? 'https' : 'http')).flatMap((r) => [r.nginx.mbPerSec, r.regcache.mbPerSec]));
      notes.push(
        `Cold fill last byte: slowest client ${n0(reg.ttlbMaxMs)} ms vs limit ${n0(c.lastByteLimitMs)} ms (nginx ${n0(ng?.ttlbMaxMs ?? Number.NaN)} ms). Meeting it means delivering ${n0(totalMb)} MB to ${res.cold.clients} clients at ≥ ${n0(needed)} MB/s in aggregate; regcache delivered ${n0(reg.deliveredMbPerSec)} MB/s, nginx ${n0(ng?.deliveredMbPerSec ?? Number.NaN)} MB/s, and the best warm ${res.cold.tls ? 'TLS' : 'HTTP'} throughput of either server in scenario 1 was ${n0(bestWarm)} MB/s.` +
          (ng && ng.ttlbMaxMs > c.lastByteLimitMs ? ' nginx misses it as well.' : '') +
          (Number.isFinite(bestWarm) && bestWarm < needed ? ' The target is beyond what this 2-core machine moves over loopback with the clients on the same cores; compare regcache with nginx instead.' : ' The machine can move that much warm, so the fill/follow path is the limit: followers behind the in-memory window share blocks read back from the pending file, and every byte is still written through user space to each of the sockets.'),
      );
    }
  }
  if (i.init?.status === 'MISS') {
    const rc = i.init.modes.find((m) => m.mode === 'regcache')?.medianMs ?? Number.NaN;
    const st = i.init.modes.find((m) => m.mode === 'nginx')?.medianMs ?? Number.NaN;
    notes.push(`terraform init: ${n0(rc)} ms through regcache vs ${n0(st)} ms through the static mirror (${n2(i.init.ratio)}×), ${n0((rc - st) / 10)} ms per provider. Terraform makes 40 requests one after another: index.json and <version>.json of each provider on one keep-alive connection, then per provider a new TLS connection with HEAD and GET of the zip, so per-request latency adds up directly. Loopback packet captures (History, round 4; 24 inits per server): regcache answers index.json in 0.30 ms, <version>.json in 0.34 ms, HEAD in 0.45 ms and a GET's first byte in 0.52 ms, nginx in 0.09, 0.12, 0.22 and 0.09 ms; a minimal Node HTTPS server answering from memory needs 0.11, 0.15, 0.28 and 0.18 ms. So about half of the gap is Node's HTTP/TLS stack (and its CPU competing with Terraform for the 2 cores), half regcache's own work per request: the request log line and metrics, recomposing an answer once it is a second old, and the body read through the libuv pool. Measured in round 4, before repeated answers were sent prepared (round 5); on a slower, noisier machine, 12-run pairs gave 1.17–1.19× after that change and 1.20–1.24× before it (History, round 5). Counted in round 6: 11 TLS connections and 40 requests per init, and a new connection plus one request from a Node client takes 4.05 ms against regcache and 3.99 ms against nginx with the same certificate (keep-alive: 0.55 against 0.50 ms), so the handshake itself is not the gap; per request, regcache's zip GETs took 1–7.5 ms until the last byte was handed to the socket (Terraform busy on the same 2 cores) where nginx's sendfile logged 0.000 s.`);
  }
  const st = res.startup;
  const app = st?.modules.find((m) => m.module.startsWith('dist/src/app.js'));
  const heavy = st ? [...st.modules].filter((m) => m !== app).sort((a, b) => b.importMs - a.importMs).slice(0, 3).map((m) => `${m.module} ${n0(m.importMs)} ms`).join(', ') : '';
  const idle = st && app ? ` An idle regcache already holds ${n0(i.rsrc.rssAtListenMb)} MB right after start; importing the module graph alone takes a fresh Node from ${n0(st.bareRssMb)} to ${n0(app.rssMb)} MB.` : '';
  if (i.rsrc.rssWarmStatus === 'MISS') notes.push(`Peak RSS in scenario 1 was ${n0(i.rsrc.peakRssWarmMb)} MB.${idle} On top, every open response holds one or two pooled 256 KiB chunks (the one in the socket, and one read ahead while fewer than 16 bodies are open), over TLS also the encrypted copy of the one in the socket, and idle chunks stay pooled until a whole second passed without them (History, round 6). The scenario also includes the harness's warm-up GET of each zip: a cold fill and its h1 hash (History, round 4). Sampled over time (History, round 5), the TLS instance went from 89 MB at start to 132 MB after that warm-up and to 146–150 MB under the 1 MB HTTPS c=64 load, the maximum; handing TLS sockets 64 KiB pieces instead of 256 KiB chunks did not lower it.`);
  if (i.rsrc.rssColdStatus === 'MISS') notes.push(`Peak RSS in scenario 3 was ${n0(i.rsrc.peakRssColdMb)} MB.${idle} Followers at the head share the download's last 4 MiB in memory and those behind it share up to 16 MiB of pooled blocks read back from the temp file; each of the 100 also holds the views it queued on its socket (which keep their 256 KiB blocks alive until written); the h1 hash of the committed zip (inflating the whole archive) starts as they finish, since the harness asks for it at once. Sampled every 2 ms (History, round 6), the process holds 128–130 MB through the fill and peaks right at its end, when the h1 hash's spent inflate chunks (each freed only by the next young-generation GC) pile up on top of the fill's blocks and heap: hashing the 200 MB zip alone raised RSS by 27.5 MB with zlib's 16 KiB chunks and 9–12 MB with the 4 KiB chunks used now. The V8 heap at that moment ranged from 22 to 42 MB used between runs, so the peak moves by ±10–20 MB from run to run (137–185 MB over eight 2-round runs of the round 5 code, 129–146 MB over three of this round's).`);
  if (i.rsrc.startupStatus === 'MISS' && st && app) {
    notes.push(`Startup with ${st.providers} cached providers took ${n0(i.rsrc.startupPopulatedMs)} ms (empty store ${n0(i.rsrc.startupEmptyMs)} ms), so the cache size is not the cost: a bare \`node\` process needs ${n0(st.bareNodeMs)} ms and importing dist/src/app.js ${n0(app.importMs)} ms on this machine (heaviest dependencies alone: ${heavy}).`);
  } else if (i.rsrc.startupStatus === 'MISS') {
    notes.push(`Startup with ${st?.providers ?? '?'} cached providers took ${n0(i.rsrc.startupPopulatedMs)} ms (empty store ${n0(i.rsrc.startupEmptyMs)} ms).`);
  }
  return notes;
}
