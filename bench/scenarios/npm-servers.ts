/**
 * Scenario 6's two npm proxies, started the same way for the warm and the
 * cold runs: regcache (built CLI, one `npm` instance at /npm) and Verdaccio
 * (fresh storage), both over the same fake origin; and one timed npm run
 * with the origin's counters read around it.
 */
import { join } from 'node:path';
import { CORGI, type NpmOrigin } from '../../test/fakes/npm-origin.js';
import { runNpm } from '../support/npm-client.js';
import { cpuPercent, readCpu } from '../support/proc.js';
import { startRegcacheInstance, type RegcacheInstance } from '../support/regcache-proc.js';
import { startVerdaccio, type VerdaccioInstance } from '../support/verdaccio.js';
import type { ModeBenchContext } from './context.js';

/** The two npm proxies. */
export type NpmSide = 'regcache' | 'verdaccio';

/** One timed npm run and what the origin saw meanwhile. */
export interface NpmInstallRun {
  side: NpmSide;
  round: number;
  ms: number;
  upstreamRequests: number;
  upstreamPackuments: number;
  upstreamTarballs: number;
  /** Packument GETs without npm's abbreviated Accept (full documents). */
  upstreamFullPackuments?: number;
  /** Body bytes the origin sent. */
  upstreamBytes: number;
  /** The proxy's CPU time during the run, % of one core (absent in results from before it was recorded). */
  serverCpu?: number;
}

/** A proxy under test: where npm points and what to stop. */
export interface NpmServer {
  side: NpmSide;
  /** npm's `--registry` (ends with '/'). */
  registry: string;
  pids(): number[];
  stop(): Promise<void>;
}

/** Starts regcache with one `npm` instance at /npm over `origin`. */
export async function startNpmRegcache(ctx: ModeBenchContext, origin: NpmOrigin, name: string): Promise<NpmServer> {
  const rc: RegcacheInstance = await startRegcacheInstance({
    name,
    dir: ctx.work,
    dataDir: join(ctx.work, `data-${name}`),
    tls: false,
    upstreamUrl: origin.url,
    instances: [{ name: 'npmjs', npm: { route: { path: '/npm' }, upstream: origin.url, metadata_fresh_for: ctx.s.npm.freshFor } }],
  });
  return { side: 'regcache', registry: `${rc.url}/npm/`, pids: () => [rc.pid], stop: () => rc.stop() };
}

/** Starts Verdaccio (fresh storage) with `origin` as its uplink. */
export async function startNpmVerdaccio(ctx: ModeBenchContext, origin: NpmOrigin, name: string): Promise<NpmServer> {
  const v: VerdaccioInstance = await startVerdaccio({ name, dir: ctx.work, uplinkUrl: origin.url, maxage: ctx.s.npm.freshFor });
  return { side: 'verdaccio', registry: `${v.url}/`, pids: () => [v.pid], stop: () => v.stop() };
}

/** Runs npm and records what the origin saw meanwhile. */
export async function timedNpm(ctx: ModeBenchContext, origin: NpmOrigin, server: NpmServer, project: string, args: string[], round: number): Promise<NpmInstallRun> {
  const req0 = origin.requests.length;
  const pk0 = origin.packumentRequests();
  const tb0 = origin.tarballRequests();
  const by0 = origin.bytesSent();
  const full = (): number => origin.requests.filter((q) => q.method === 'GET' && !q.path.endsWith('.tgz') && !String(q.headers.accept ?? '').includes(CORGI)).length;
  const fu0 = full();
  const cpu0 = readCpu(server.pids());
  const r = await runNpm(ctx.work, project, server.registry, args);
  const cpu = cpuPercent(cpu0, readCpu(server.pids()));
  return {
    side: server.side,
    round,
    ms: r.ms,
    upstreamRequests: origin.requests.length - req0,
    upstreamPackuments: origin.packumentRequests() - pk0,
    upstreamTarballs: origin.tarballRequests() - tb0,
    upstreamFullPackuments: full() - fu0,
    upstreamBytes: origin.bytesSent() - by0,
    serverCpu: cpu.total,
  };
}
