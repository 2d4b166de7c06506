/**
 * Scenario 6, cold part: `npm ci` of the same lock file through a regcache
 * and a Verdaccio that have never seen it (fresh storage each round, fresh
 * npm cache). The lock file is the one the warm instance of the same kind
 * wrote, its resolved URLs moved to the fresh instance's address. Measured:
 * wall time, and what the origin sent (requests, packuments, tarballs, body
 * bytes) during the run.
 */
import type { NpmOrigin } from '../../test/fakes/npm-origin.js';
import { makeNpmProject, resolvedUrls } from '../support/npm-client.js';
import { roundsOf, type ModeBenchContext } from './context.js';
import { startNpmRegcache, startNpmVerdaccio, timedNpm, type NpmInstallRun, type NpmServer, type NpmSide } from './npm-servers.js';

/** The registry base a lock file's resolved URLs start with (what npm was pointed at). */
function baseOf(lock: string, side: NpmSide): string {
  const first = resolvedUrls(lock)[0] ?? '';
  // regcache: http://host:port/npm/<name>/-/<file>; Verdaccio: http://host:port/<name>/-/<file>.
  const m = side === 'regcache' ? /^(https?:\/\/[^/]+\/npm\/)/.exec(first) : /^(https?:\/\/[^/]+\/)/.exec(first);
  if (!m?.[1]) throw new Error(`${side}: unexpected resolved URL in the lock file: ${first}`);
  return m[1];
}

/** Cold `npm ci` rounds, the two sides alternating first. */
export async function npmColdInstalls(ctx: ModeBenchContext, origin: NpmOrigin, manifest: Record<string, unknown>, locks: Record<NpmSide, string>, dir: string): Promise<NpmInstallRun[]> {
  const runs: NpmInstallRun[] = [];
  for (const round of roundsOf(ctx.s.rounds)) {
    const sides: NpmSide[] = round % 2 === 1 ? ['regcache', 'verdaccio'] : ['verdaccio', 'regcache'];
    for (const side of sides) {
      const name = `${side}-npm-cold-${round}`;
      const server: NpmServer = side === 'regcache' ? await startNpmRegcache(ctx, origin, name) : await startNpmVerdaccio(ctx, origin, name);
      try {
        const lock = locks[side].replaceAll(baseOf(locks[side], side), server.registry);
        const project = await makeNpmProject(dir, `cold-${name}`, manifest, lock);
        const r = await timedNpm(ctx, origin, server, project, ['ci'], round);
        runs.push(r);
        ctx.log(`  npm ci cold r${round} ${side.padEnd(9)} ${r.ms.toFixed(0)} ms, origin ${r.upstreamPackuments} packuments + ${r.upstreamTarballs} tarballs, ${(r.upstreamBytes / 1e6).toFixed(2)} MB`);
      } finally {
        await server.stop();
      }
    }
  }
  return runs;
}
