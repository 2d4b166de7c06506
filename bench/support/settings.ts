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
  /** Scenario 6 (npm, against Verdaccio and nginx). */
  npm: {
    /** Packages in the lock file (generateNpmPackages). */
    packages: number;
    /** Timed warm `npm ci` runs per side. */
    ciRuns: number;
    /** regcache's `metadata_fresh_for` and Verdaccio's uplink `maxage`. */
    freshFor: string;
    /** wrk connections for packuments and tarballs. */
    concurrencies: number[];
  };
  /** Scenario 7 (OCI blobs, against nginx). */
  oci: {
    /** Blob sizes of the warm rows, bytes. */
    blobSizes: Array<{ label: string; bytes: number; durationSec: number }>;
    concurrencies: number[];
    /** Cold pull: clients asking at once, blob size, origin latency and bandwidth. */
    coldClients: number;
    coldBytes: number;
    coldLatencyMs: number;
    coldBytesPerSecond: number;
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
    npm: {
      packages: intEnv('BENCH_NPM_PACKAGES', 200),
      ciRuns: intEnv('BENCH_NPM_RUNS', quick ? 1 : 5),
      freshFor: env.BENCH_NPM_FRESH ?? '10m',
      concurrencies: quick ? [16] : [1, 16],
    },
    oci: {
      blobSizes: [
        { label: '1 MB', bytes: 1 * MB, durationSec: dur },
        { label: '50 MB', bytes: 50 * MB, durationSec: quick ? dur : dur + 2 },
      ],
      concurrencies: [1, 16],
      coldClients: intEnv('BENCH_OCI_COLD_CLIENTS', quick ? 20 : 50),
      coldBytes: intEnv('BENCH_OCI_COLD_MB', quick ? 20 : 100) * MB,
      coldLatencyMs: 50,
      coldBytesPerSecond: intEnv('BENCH_COLD_MBPS', 100) * MB,
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
