/**
 * `npm run soak`: regcache (the built CLI, a child process) in front of the
 * fake origin under mixed warm and cold traffic from a separate load
 * generator process (bench/soak-load.ts) for SOAK_SECONDS (default 300).
 * Every 5 s it samples regcache's RSS and open descriptors from /proc and
 * `regcache_fills_in_flight` from /metrics. It reports requests, failures
 * (must be 0), RSS and fd first/last/max and whether they stay within 20 %
 * after warm-up, and fills still pending at the end (must be 0); writes
 * bench/results/soak.json and the soak section of RELIABILITY.md; exits 1
 * when any of that fails. Stops every process it started.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startOriginRegistry, type OriginRegistry } from '../test/fakes/origin-registry.js';
import type { LoadPlan, LoadTally, PlanZip } from './soak-load.js';
import { summarize, writeSoakResults, type SoakResult, type SoakSample } from './soak-report.js';
import { exited, killAllNow, stopAll, stopChild, track } from './support/children.js';
import { getUrl } from './support/http-get.js';
import { memoryOf } from './support/proc.js';
import { machineInfo } from './support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const LOAD = fileURLToPath(new URL('./soak-load.js', import.meta.url));
const SECONDS = Math.max(10, Number(process.env.SOAK_SECONDS ?? 300));
const WARMUP_SEC = Math.min(60, Math.max(5, Math.round(SECONDS * 0.2)));
const SAMPLE_MS = 5_000;
const HOST = 'registry.terraform.io';
const NS = 'soak';
const ADMIN_TOKEN = 'soak-admin-token-0123456789';
const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];

const log = (m: string): void => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}`);
const zipPath = (type: string, version: string, os: string, arch: string): string =>
  `/v1/mirror/${HOST}/${NS}/${type}/${version}/${os}_${arch}/terraform-provider-${type}_${version}_${os}_${arch}.zip`;

/** Publishes the hot and cold providers and returns the load plan's content lists. */
async function publish(origin: OriginRegistry): Promise<Pick<LoadPlan, 'hot' | 'metadata' | 'cold'>> {
  const hot: PlanZip[] = [];
  const metadata: string[] = ['/health', '/.well-known/terraform.json'];
  const cold: LoadPlan['cold'] = [];
  const zipOf = (type: string, os: string, arch: string): PlanZip => {
    const bytes = origin.zipBytes(NS, type, '1.0.0', os, arch);
    return { path: zipPath(type, '1.0.0', os, arch), sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
  };
  for (let i = 0; i < 5; i++) {
    const type = `hot${i}`;
    await origin.addProvider({ namespace: NS, type, versions: [{ version: '1.0.0', platforms: PLATFORMS, extraBytes: i === 0 ? 4_000_000 : 30_000 }] });
    for (const p of PLATFORMS) hot.push(zipOf(type, p.os, p.arch));
    metadata.push(`/v1/mirror/${HOST}/${NS}/${type}/index.json`, `/v1/mirror/${HOST}/${NS}/${type}/1.0.0.json`, `/v1/providers/${HOST}/${NS}/${type}/1.0.0/download/linux/amd64`);
  }
  for (let i = 0; i < 6; i++) {
    const type = `cold${i}`;
    await origin.addProvider({ namespace: NS, type, versions: [{ version: '1.0.0', platforms: PLATFORMS, extraBytes: 1_000_000 }] });
    cold.push({ purge: `/v1/mirror/${HOST}/${NS}/${type}/1.0.0`, zips: PLATFORMS.map((p) => zipOf(type, p.os, p.arch)) });
  }
  return { hot, metadata, cold };
}

/** Starts regcache with its log in `dir`; resolves once it listens. */
async function startRegcache(dir: string, originUrl: string, caFile: string): Promise<{ url: string; pid: number; logFile: string; child: ReturnType<typeof track> }> {
  const configFile = join(dir, 'regcache.yaml');
  const logFile = join(dir, 'regcache.log');
  await writeFile(
    configFile,
    stringify({
      server: { listen: '127.0.0.1:0', tls: false, shutdownTimeout: '5s' },
      storage: { path: join(dir, 'data') },
      terraform: { upstreams: [{ host: HOST, url: originUrl }], metadata: { ttl: '20s' } },
      upstream: { allowAddresses: ['127.0.0.1'] },
      admin: { token: ADMIN_TOKEN },
      log: { level: 'info' },
    }),
  );
  const fd = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: caFile };
  delete env.NODE_OPTIONS;
  const child = track(spawn(process.execPath, [CLI, 'serve', '--config', configFile], { env, stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /"msg":"regcache listening".*?"url":"([^"]+)"|"url":"([^"]+)".*?"msg":"regcache listening"/.exec(await readFile(logFile, 'utf8'));
    const url = m?.[1] ?? m?.[2];
    if (url !== undefined && child.pid !== undefined) return { url, pid: child.pid, logFile, child };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`regcache did not start:\n${(await readFile(logFile, 'utf8')).slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fdsOf = (pid: number): number => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
};

/** The figures the soak reads from /metrics (undefined when unreadable). */
interface Scraped {
  fills: number | undefined;
  heapUsedMb: number | undefined;
  externalMb: number | undefined;
}

async function scrape(url: string): Promise<Scraped> {
  const text = (await getUrl(`${url}/metrics`, undefined, 10_000).catch(() => undefined))?.bodyText ?? '';
  const value = (name: string): number | undefined => {
    const m = new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const mb = (v: number | undefined): number | undefined => (v === undefined ? undefined : Math.round(v / 1e5) / 10);
  return { fills: value('regcache_fills_in_flight'), heapUsedMb: mb(value('regcache_nodejs_heap_size_used_bytes')), externalMb: mb(value('regcache_nodejs_external_memory_bytes')) };
}

const fillsInFlight = async (url: string): Promise<number | undefined> => (await scrape(url)).fills;

async function main(): Promise<void> {
  process.once('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void stopAll().finally(() => process.exit(130));
    });
  }
  const work = await mkdtemp(join(tmpdir(), 'regcache-soak-'));
  const origin = await startOriginRegistry({ latencyMs: 5, bytesPerSecond: 40_000_000 });
  try {
    log(`publishing providers; load ${SECONDS} s, warm-up ${WARMUP_SEC} s`);
    const content = await publish(origin);
    const rc = await startRegcache(work, origin.url, origin.caFile);
    log(`regcache pid ${rc.pid} at ${rc.url}`);
    for (const z of content.hot) {
      const r = await getUrl(`${rc.url}${z.path}`);
      if (r.status !== 200 || r.sha256 !== z.sha256) throw new Error(`warming ${z.path} failed: ${r.status}`);
    }
    const plan: LoadPlan = { url: rc.url, seconds: SECONDS, warmWorkers: 12, coldFanout: 3, adminToken: ADMIN_TOKEN, ...content };
    const planFile = join(work, 'plan.json');
    await writeFile(planFile, JSON.stringify(plan));

    const loader = track(spawn(process.execPath, [LOAD, planFile], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let progress: LoadTally | undefined;
    let final: LoadTally | undefined;
    let pending = '';
    loader.stdout?.on('data', (c: Buffer) => {
      pending += c.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('SOAKLOAD ')) continue;
        const t = JSON.parse(line.slice('SOAKLOAD '.length)) as LoadTally & { done: boolean };
        progress = t;
        if (t.done) final = t;
      }
    });
    const startedAt = Date.now();
    const samples: SoakSample[] = [];
    const sample = async (): Promise<void> => {
      const m = await scrape(rc.url);
      const s: SoakSample = { t: Math.round((Date.now() - startedAt) / 100) / 10, rssMb: memoryOf(rc.pid).rssMb, fds: fdsOf(rc.pid), fillsInFlight: m.fills, heapUsedMb: m.heapUsedMb, externalMb: m.externalMb, requests: progress?.requests ?? 0 };
      samples.push(s);
      if (samples.length % 6 === 1) log(`t=${s.t}s rss=${s.rssMb.toFixed(1)}MB heap=${s.heapUsedMb}MB external=${s.externalMb}MB fds=${s.fds} fills=${s.fillsInFlight} requests=${s.requests} failures=${progress?.failures ?? 0}`);
    };
    await sample();
    const timer = setInterval(() => void sample(), SAMPLE_MS);
    await exited(loader);
    clearInterval(timer);
    await sample();
    if (!final) throw new Error('the load generator ended without a final tally');

    let pendingFills = await fillsInFlight(rc.url);
    for (let i = 0; i < 60 && pendingFills !== 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      pendingFills = await fillsInFlight(rc.url);
    }
    await stopChild(rc.child);
    const errorLogLines = (await readFile(rc.logFile, 'utf8')).split('\n').filter((l) => /"level":(5|6)0\b/.test(l)).length;

    const rss = summarize(samples, (s) => s.rssMb, WARMUP_SEC, SECONDS);
    const fds = summarize(samples, (s) => s.fds, WARMUP_SEC, SECONDS);
    const heapUsed = summarize(samples, (s) => s.heapUsedMb ?? Number.NaN, WARMUP_SEC, SECONDS);
    const external = summarize(samples, (s) => s.externalMb ?? Number.NaN, WARMUP_SEC, SECONDS);
    const maxFills = Math.max(0, ...samples.map((s) => s.fillsInFlight ?? 0));
    const result: SoakResult = {
      date: new Date().toISOString(),
      command: process.env.SOAK_SECONDS ? `SOAK_SECONDS=${SECONDS} npm run soak` : 'npm run soak',
      seconds: SECONDS,
      warmupSec: WARMUP_SEC,
      machine: machineInfo(),
      node: process.version,
      load: final,
      requestsPerSec: final.requests / SECONDS,
      rss,
      fds,
      heapUsed,
      external,
      pendingFillsAtEnd: pendingFills,
      maxFillsInFlight: maxFills,
      errorLogLines,
      samples,
      pass: final.failures === 0 && final.requests > 0 && pendingFills === 0 && rss.within20Pct && fds.within20Pct && errorLogLines === 0,
    };
    await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
    await writeSoakResults(result, join(ROOT, 'bench', 'results', 'soak.json'), join(ROOT, 'RELIABILITY.md'));
    log(`requests ${final.requests} (${Math.round(result.requestsPerSec)}/s), failures ${final.failures}, cold cycles ${final.coldCycles}`);
    log(`RSS MB first/last/max ${rss.first.toFixed(1)}/${rss.last.toFixed(1)}/${rss.max.toFixed(1)}, level after warm-up ${rss.earlyLevel.toFixed(1)} → ${rss.lateLevel.toFixed(1)} (${rss.growthPct}%)`);
    log(`fds first/last/max ${fds.first}/${fds.last}/${fds.max}, level after warm-up ${fds.earlyLevel} → ${fds.lateLevel} (${fds.growthPct}%); pending fills ${pendingFills}; error log lines ${errorLogLines}`);
    log(`${result.pass ? 'PASS' : 'FAIL'}: wrote bench/results/soak.json and RELIABILITY.md`);
    if (!result.pass) process.exitCode = 1;
  } finally {
    await stopAll();
    await origin.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
