/**
 * Scenario 6: the npm mode against Verdaccio (an npm proxy, uplink = the
 * same fake origin) and nginx (the same tarball files, static), in one run.
 * A project depending on N generated packages is installed once through
 * each proxy (cold, writes its lock file; timed and counted too), then:
 * warm `npm ci` of that lock file (fresh npm cache per run, the two
 * alternating), warm packument and tarball load with wrk (the three
 * rotating; a lock-file tarball, and a 1 MB one published only for this
 * row), and cold `npm ci` of the same lock file through fresh
 * instances (npm-cold.ts). regcache's `metadata_fresh_for` and Verdaccio's
 * uplink `maxage` are the same, so neither asks the origin during warm runs.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CORGI, generateNpmPackages, projectManifest, startNpmOrigin, type NpmOrigin } from '../../test/fakes/npm-origin.js';
import { runCommand } from '../support/children.js';
import { startStaticNginx } from '../support/nginx.js';
import { makeNpmProject, readLock, resolvedUrls, runNpm } from '../support/npm-client.js';
import { ensureVerdaccio } from '../support/verdaccio.js';
import { runWrk, type WrkResult } from '../support/wrk.js';
import { roundsOf, type ModeBenchContext } from './context.js';
import { npmColdInstalls } from './npm-cold.js';
import { startNpmRegcache, startNpmVerdaccio, timedNpm, type NpmInstallRun, type NpmServer, type NpmSide } from './npm-servers.js';

/** One wrk row: the same document or tarball from each server. */
export interface NpmWrkRow {
  kind: 'packument' | 'tarball';
  path: string;
  connections: number;
  /** Body size each server sends (packuments differ: tarball URLs, abbreviation). */
  bodyBytes: Partial<Record<NpmSide | 'nginx', number>>;
  regcache: WrkResult[];
  verdaccio: WrkResult[];
  /** Tarballs only. */
  nginx?: WrkResult[];
}

/** Scenario 6's raw results. */
export interface NpmResults {
  packages: number;
  versions: { verdaccio: string; npm: string };
  freshFor: string;
  /** The first `npm install` through each (no lock file, cold): writes the lock files. */
  lockInstalls: NpmInstallRun[];
  ci: NpmInstallRun[];
  wrk: NpmWrkRow[];
  cold: NpmInstallRun[];
}

const order = (round: number): NpmSide[] => (round % 2 === 1 ? ['regcache', 'verdaccio'] : ['verdaccio', 'regcache']);
/** Not in the lock file: loaded with wrk only. */
const LARGE = 'bench-large-tarball';
const LARGE_BYTES = 1_000_000;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function body(url: string, accept?: string): Promise<Buffer> {
  const res = await fetch(url, accept ? { headers: { accept } } : {});
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Runs scenario 6. */
export async function npmRegistry(ctx: ModeBenchContext): Promise<NpmResults> {
  const { s } = ctx;
  const verdaccioVersion = await ensureVerdaccio(ctx.log);
  const npmVersion = (await runCommand('npm', ['--version'])).stdout.trim();
  const specs = generateNpmPackages(s.npm.packages);
  // One large tarball besides the lock file's small ones, for a bandwidth row next to the request-rate row.
  const origin = await startNpmOrigin({ packages: [...specs, { name: LARGE, versions: [{ version: '1.0.0', dataBytes: LARGE_BYTES }] }], privateScopes: [] });
  const manifest = projectManifest(specs, 'regcache-bench-npm');
  const servers: NpmServer[] = [];
  const dir = join(ctx.work, 'npm');
  try {
    const rc = await startNpmRegcache(ctx, origin, 'regcache-npm');
    servers.push(rc);
    const vd = await startNpmVerdaccio(ctx, origin, 'verdaccio-npm');
    servers.push(vd);
    const by: Record<NpmSide, NpmServer> = { regcache: rc, verdaccio: vd };
    ctx.log(`  npm: origin ${origin.url}, regcache ${rc.registry}, verdaccio ${vd.registry} (verdaccio ${verdaccioVersion}, npm ${npmVersion}), ${s.npm.packages} packages`);

    // The lock file of each proxy, written by a first (cold) npm install through it.
    const projects = {} as Record<NpmSide, string>;
    const locks = {} as Record<NpmSide, string>;
    const lockInstalls: NpmInstallRun[] = [];
    for (const side of order(1)) {
      projects[side] = await makeNpmProject(dir, `project-${side}`, manifest);
      const r = await timedNpm(ctx, origin, by[side], projects[side], ['install'], 0);
      lockInstalls.push(r);
      locks[side] = await readLock(projects[side]);
      const urls = resolvedUrls(locks[side]);
      if (urls.length !== s.npm.packages || urls.some((u) => !u.startsWith(by[side].registry))) throw new Error(`${side}: lock file has ${urls.length} packages, not all below ${by[side].registry}`);
      ctx.log(`  npm install (cold, writes the lock file) ${side.padEnd(9)} ${r.ms.toFixed(0)} ms, origin ${r.upstreamPackuments} packuments + ${r.upstreamTarballs} tarballs`);
    }
    // Untimed warm-up: the page cache and each proxy's own caches.
    for (const side of order(1)) await runNpm(ctx.work, projects[side], by[side].registry, ['ci']);
    const ci: NpmInstallRun[] = [];
    for (const round of roundsOf(s.npm.ciRuns)) {
      for (const side of order(round)) {
        const r = await timedNpm(ctx, origin, by[side], projects[side], ['ci'], round);
        ci.push(r);
        ctx.log(`  npm ci warm r${round} ${side.padEnd(9)} ${r.ms.toFixed(0)} ms, origin requests ${r.upstreamRequests}`);
      }
    }
    const wrk = await npmWrk(ctx, origin, by, join(dir, 'nginx'));
    for (const server of servers.splice(0)) await server.stop();
    const cold = await npmColdInstalls(ctx, origin, manifest, locks, dir);
    return { packages: s.npm.packages, versions: { verdaccio: verdaccioVersion, npm: npmVersion }, freshFor: s.npm.freshFor, lockInstalls, ci, wrk, cold };
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    await origin.close();
  }
}

/** Warm packument (npm's abbreviated Accept) and tarball load, regcache / Verdaccio / nginx rotating per round. */
async function npmWrk(ctx: ModeBenchContext, origin: NpmOrigin, by: Record<NpmSide, NpmServer>, nginxDir: string): Promise<NpmWrkRow[]> {
  const { s } = ctx;
  const root = join(nginxDir, 'root');
  for (const v of origin.allVersions()) {
    await mkdir(dirname(join(root, v.path)), { recursive: true });
    await writeFile(join(root, v.path), v.tarball);
  }
  const nginx = await startStaticNginx({ dir: nginxDir, workers: s.nginxWorkers, root });
  try {
    const first = origin.allVersions()[0];
    if (!first) throw new Error('npm origin has no packages');
    const large = origin.version(LARGE, '1.0.0');
    const rows: NpmWrkRow[] = [];
    const targets = [
      { kind: 'packument', v: first },
      { kind: 'tarball', v: first },
      { kind: 'tarball', v: large },
    ] as const;
    for (const { kind, v } of targets) {
      const pkgPath = `/${v.name}`;
      const rel = kind === 'packument' ? pkgPath.slice(1) : v.path.slice(1);
      const accept = kind === 'packument' ? CORGI : undefined;
      const urls: Partial<Record<NpmSide | 'nginx', string>> = { regcache: `${by.regcache.registry}${rel}`, verdaccio: `${by.verdaccio.registry}${rel}` };
      if (kind === 'tarball') urls.nginx = `${nginx.url}/${rel}`;
      const bodyBytes: NpmWrkRow['bodyBytes'] = {};
      for (const [side, url] of Object.entries(urls) as Array<[NpmSide | 'nginx', string]>) {
        const b = await body(url, accept);
        bodyBytes[side] = b.length;
        if (kind === 'tarball' && sha(b) !== sha(v.tarball)) throw new Error(`${side} serves different bytes for ${v.path}`);
        if (kind === 'packument') {
          const doc = JSON.parse(b.toString()) as { versions?: Record<string, { dist?: { integrity?: string } }> };
          if (doc.versions?.[v.version]?.dist?.integrity !== v.integrity) throw new Error(`${side}: packument of ${v.name} lacks the origin's integrity`);
        }
      }
      const pids: Record<NpmSide | 'nginx', () => number[]> = { regcache: () => by.regcache.pids(), verdaccio: () => by.verdaccio.pids(), nginx: () => nginx.pids() };
      const sides = Object.keys(urls) as Array<NpmSide | 'nginx'>;
      for (const connections of s.npm.concurrencies) {
        const row: NpmWrkRow = { kind, path: kind === 'packument' ? pkgPath : v.path, connections, bodyBytes, regcache: [], verdaccio: [], ...(kind === 'tarball' ? { nginx: [] } : {}) };
        for (const round of roundsOf(s.rounds)) {
          const turn = sides.map((_, i) => sides[(i + round - 1) % sides.length] ?? 'regcache');
          for (const side of turn) {
            const url = urls[side] ?? '';
            const r = await runWrk({ url, connections, durationSec: s.metadataDurationSec, timeoutSec: s.wrkTimeoutSec, serverPids: pids[side], ...(accept ? { headers: { accept } } : {}) });
            (row[side] ??= []).push(r);
            ctx.log(`  npm ${kind} ${bodyBytes.regcache ?? 0} B c=${connections} r${round} ${side.padEnd(9)} ${r.reqPerSec.toFixed(0).padStart(7)} req/s p99 ${r.p99Ms.toFixed(2)} ms cpu ${r.serverCpu.toFixed(0)}%` + (r.errors + r.statusErrors > 0 ? ` ERRORS ${r.errors}/${r.statusErrors}` : ''));
          }
        }
        rows.push(row);
      }
    }
    return rows;
  } finally {
    await nginx.stop();
  }
}
