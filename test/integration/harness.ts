/**
 * In-process regcache (plain HTTP on loopback) in front of the fake HTTPS
 * origin registry, with captured JSON logs and helpers to look at what the
 * store holds on disk. Shared by the integration tests.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { startOriginRegistry, type OriginOptions, type OriginProviderSpec, type OriginRegistry } from '../fakes/origin-registry.js';
import { listTree } from '../support/file-tree.js';
import { rawRequest, type RawRequestOptions, type RawResponse } from './http-client.js';

/** The registry host the tests address; configured to point at the fake origin. */
export const HOST = 'registry.terraform.io';

/** One parsed log line. */
export type LogLine = Record<string, unknown>;

/** Start options; every section is merged into the generated YAML config. */
export interface HarnessOptions {
  originOptions?: OriginOptions;
  providers?: OriginProviderSpec[];
  /** Further upstream hosts, e.g. one whose CA is not trusted. */
  extraUpstreams?: Array<{ host: string; url?: string; unsigned?: 'allow' | 'refuse'; token?: string }>;
  metadata?: Record<string, string>;
  /** Merged over the loopback allowance every harness needs (its fakes listen on 127.0.0.1). */
  upstream?: Record<string, string | number | boolean | string[]>;
  server?: Record<string, string | number | boolean>;
  /** Further top-level sections (admin, metrics) and extra storage / terraform keys. */
  extra?: { storage?: Record<string, unknown>; terraform?: Record<string, unknown>; admin?: Record<string, unknown>; metrics?: Record<string, unknown> };
}

/** A running origin + regcache pair. */
export interface Harness {
  readonly origin: OriginRegistry;
  /** The current app (replaced by `restart`). */
  app: App;
  readonly dataDir: string;
  readonly logs: LogLine[];
  /** Raw request to the current app. */
  get(target: string, opts?: RawRequestOptions): Promise<RawResponse>;
  /** Starts a fresh app on the same storage path (after the old one stopped). */
  restart(): Promise<App>;
  /** Waits until no fill or load runs and the store's tmp dir is empty. */
  settle(): Promise<void>;
  /** Object files under cache/objects, relative, '/'-separated. */
  objectFiles(): Promise<string[]>;
  /** Entries of cache/tmp. */
  tmpEntries(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Polls `cond` every 20 ms; throws naming `what` when it does not hold within `limitMs` (a hang guard, not a timing assertion). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Cache key prefix of a provider under the test host. */
export function providerKeyOf(namespace: string, type: string): string {
  return `tf/providers/${HOST}/${namespace}/${type}`;
}

/** Mirror path prefix of a provider under the test host. */
export function mirrorPathOf(namespace: string, type: string, host = HOST): string {
  return `/v1/mirror/${host}/${namespace}/${type}`;
}

/** Mirror path of a zip. */
export function zipPathOf(namespace: string, type: string, version: string, os: string, arch: string): string {
  return `${mirrorPathOf(namespace, type)}/${version}/${os}_${arch}/terraform-provider-${type}_${version}_${os}_${arch}.zip`;
}

/** Starts the fake origin (trusted via NODE_EXTRA_CA_CERTS) and regcache in front of it. */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const origin = await startOriginRegistry(opts.originOptions);
  for (const p of opts.providers ?? []) await origin.addProvider(p);
  const dir = await mkdtemp(join(tmpdir(), 'regcache-it-'));
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'regcache.yaml');
  await writeFile(
    configFile,
    stringify({
      server: { listen: '127.0.0.1:0', tls: false, shutdownTimeout: '3s', ...opts.server },
      storage: { path: dataDir, ...opts.extra?.storage },
      terraform: {
        upstreams: [{ host: HOST, url: origin.url }, ...(opts.extraUpstreams ?? []).map((u) => ({ ...u, url: u.url ?? origin.url }))],
        ...(opts.metadata ? { metadata: opts.metadata } : {}),
        ...opts.extra?.terraform,
      },
      ...(opts.extra?.admin ? { admin: opts.extra.admin } : {}),
      ...(opts.extra?.metrics ? { metrics: opts.extra.metrics } : {}),
      upstream: { connectTimeout: '2s', headersTimeout: '2s', bodyTimeout: '2s', allowAddresses: ['127.0.0.1'], ...opts.upstream },
      log: { level: 'debug' },
    }),
  );
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'debug', base: { svc: 'regcache' } },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  );
  // The upstream client reads NODE_EXTRA_CA_CERTS when the app starts.
  process.env.NODE_EXTRA_CA_CERTS = origin.caFile;
  const boot = async (): Promise<App> => startApp(await loadConfig({ file: configFile, env: {}, flags: {} }), { log: logger });
  let app: App;
  try {
    app = await boot();
  } catch (err) {
    await origin.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const cacheDir = join(dataDir, 'cache');
  const h: Harness = {
    origin,
    app,
    dataDir,
    logs,
    get: (target, o) => rawRequest(h.app.url, target, o),
    async restart() {
      await h.app.stop();
      h.app = await boot();
      return h.app;
    },
    async settle() {
      await waitFor(async () => h.app.cache.inflight === 0 && (await h.tmpEntries()).length === 0, 'fills settled and cache/tmp empty');
    },
    objectFiles: () => listTree(join(cacheDir, 'objects')),
    tmpEntries: () => readdir(join(cacheDir, 'tmp')).catch(() => []),
    async stop() {
      origin.clearFaults();
      try {
        await h.app.stop();
      } finally {
        await origin.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  return h;
}

/** Replaces cache/tmp with a regular file (root ignores permissions, so this is how the store is broken). */
export async function breakTmpDir(h: Harness): Promise<void> {
  const tmp = join(h.dataDir, 'cache', 'tmp');
  await rm(tmp, { recursive: true, force: true });
  await writeFile(tmp, 'not a directory');
}

/** Undoes `breakTmpDir`. */
export async function restoreTmpDir(h: Harness): Promise<void> {
  const tmp = join(h.dataDir, 'cache', 'tmp');
  await rm(tmp, { force: true });
  await mkdir(tmp, { recursive: true });
}
