/**
 * Benchmark knobs. The full run is sized to finish in about 15 minutes on
 * the 2-core reference machine; BENCH_QUICK=1 shrinks every scenario to a
 * smoke run that still exercises each code path.
 */

/** A zip size measured in scenario 1. */
export interface ArtifactSize {
  label: string;
  /** Pseudo-random bytes padded into the zip (the zip is a few hundred bytes larger). */
  extraBytes: number;
  /** wrk duration for this size, seconds. */
  durationSec: number;
}

/** Everything a run can vary. */
export interface BenchSettings {
  quick: boolean;
  rounds: number;
  /** server.workers of the extra regcache side in scenarios 1–3 (BENCH_WORKERS; 1 = none). */
  workers: number;
  artifactSizes: ArtifactSize[];
  concurrencies: number[];
  metadataConcurrency: number;
  metadataDurationSec: number;
  wrkTimeoutSec: number;
  cold: {
    bytes: number;
    clients: number;
    latencyMs: number;
    bytesPerSecond: number;
    /** Clients talk TLS to regcache / nginx (the upstream leg is always TLS). */
    tls: boolean;
  };
  initProviders: number;
  initRuns: number;
  manyProviders: number;
  startupRuns: number;
  /** nginx `worker_processes` ("auto" = one per core). */
  nginxWorkers: string;
  profile: boolean;
  keepWorkDir: boolean;
  /** Scenario numbers to run (BENCH_ONLY=1,2); all when empty. For iterating, not for the report. */
  only: number[];
}

const MB = 1_000_000;

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

/** Reads BENCH_* environment variables on top of the quick or full defaults. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const dur = intEnv('BENCH_DURATION', quick ? 2 : 5);
  return {
    quick,
    rounds: intEnv('BENCH_ROUNDS', quick ? 1 : 3),
    workers: intEnv('BENCH_WORKERS', 2),
    artifactSizes: [
      { label: '1 MB', extraBytes: 1 * MB, durationSec: dur },
      { label: '50 MB', extraBytes: 50 * MB, durationSec: quick ? dur : dur + 2 },
    ],
    concurrencies: quick ? [1, 16] : [1, 16, 64],
    metadataConcurrency: 16,
    metadataDurationSec: dur,
    wrkTimeoutSec: 60,
    cold: {
      bytes: intEnv('BENCH_COLD_MB', quick ? 20 : 200) * MB,
      clients: intEnv('BENCH_COLD_CLIENTS', quick ? 20 : 100),
      latencyMs: 50,
      bytesPerSecond: intEnv('BENCH_COLD_MBPS', 100) * MB,
      tls: env.BENCH_COLD_TLS === '1',
    },
    initProviders: 10,
    initRuns: intEnv('BENCH_INIT_RUNS', quick ? 1 : 9),
    manyProviders: intEnv('BENCH_MANY_PROVIDERS', quick ? 100 : 1000),
    startupRuns: quick ? 1 : 3,
    nginxWorkers: env.BENCH_NGINX_WORKERS ?? 'auto',
    profile: env.BENCH_PROFILE !== '0',
    keepWorkDir: env.BENCH_KEEP === '1',
    only: (env.BENCH_ONLY ?? '')
      .split(',')
      .filter((x) => x.trim() !== '')
      .map(Number),
  };
}
