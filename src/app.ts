/**
 * Composition root: builds store, cache engine, upstream client, adapters,
 * operational endpoints and listeners from a validated Config. Used by the
 * CLI and by tests, which start real instances on loopback ports.
 */
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { parseListenAddress } from './config/schema.js';
import { createAdminForward, startInternalListener, type InternalListener } from './cluster/internal.js';
import type { WorkerLink } from './cluster/worker.js';
import { createCache, type Cache } from './core/cache.js';
import { layered, type Coordinator } from './core/coordinator.js';
import { createAdminEndpoints } from './http/admin.js';
import type { Endpoint, RequestEvent } from './http/endpoint.js';
import { createHandler } from './http/handler.js';
import { createHealthEndpoints } from './http/health.js';
import { createMetricsEndpoint, type MetricsSource } from './http/metrics-endpoint.js';
import { startListener, type Listener } from './http/server.js';
import { resolveTls } from './http/tls-material.js';
import { createStatusPage } from './http/status-page.js';
import { createTerraformMirrors } from './mirrors/terraform/index.js';
import { createJobs } from './ops/jobs.js';
import { createMetrics } from './ops/metrics.js';
import { createRequestLog } from './ops/request-log.js';
import { startHousekeeping } from './ops/scheduler.js';
import { createStats } from './ops/stats.js';
import { createUsageTracker } from './ops/usage.js';
import { createFsStore } from './storage/fs/fs-store.js';
import type { Store } from './core/store.js';
import { createUpstreamClient } from './upstream/client.js';
import { VERSION } from './version.js';

/** A running regcache instance. */
export interface App {
  readonly url: string;
  /** Base URL of the separate metrics listener, when configured. */
  readonly metricsUrl: string | undefined;
  readonly log: Logger;
  readonly store: Store;
  readonly cache: Cache;
  /** Path of the generated CA when TLS is self-signed. */
  readonly caPath: string | undefined;
  /** Graceful stop: finish in-flight responses (up to the configured deadline), abort fills. */
  stop(): Promise<void>;
}

/** Options beyond the config (tests inject a log destination). */
export interface AppOptions {
  log?: Logger;
  /** Set in a worker process of `server.workers` > 1 (src/cluster). */
  worker?: WorkerLink;
}

/**
 * The configured store, and for S3 with `redirect: true` a presigner for
 * artifact hits. Optional backends are imported only when configured, which
 * keeps start-up fast and memory small for the default filesystem store.
 */
async function createStore(config: Config): Promise<{ store: Store; redirect: ((key: string) => Promise<string>) | undefined }> {
  const s3 = config.storage.s3;
  if (config.storage.type !== 's3' || !s3) return { store: createFsStore({ root: join(config.storage.path, 'cache'), openFiles: config.storage.openFiles }), redirect: undefined };
  const { createS3Store } = await import('./storage/s3/s3-store.js');
  const { presignGet } = await import('./storage/s3/presign.js');
  const store = createS3Store({
    bucket: s3.bucket,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    spoolDir: join(config.storage.path, 'spool'),
    ...(s3.prefix ? { prefix: s3.prefix } : {}),
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.credentials
      ? {
          credentials: {
            accessKeyId: s3.credentials.accessKeyId,
            secretAccessKey: s3.credentials.secretAccessKey,
            ...(s3.credentials.sessionToken ? { sessionToken: s3.credentials.sessionToken } : {}),
          },
        }
      : {}),
  });
  return { store, redirect: s3.redirect ? (key) => presignGet(store, key, 300) : undefined };
}

/** Memory for prepared answers to repeated metadata requests (src/http/prepared.ts). */
const PREPARED_ANSWER_BYTES = 8 * 1024 * 1024;

const urlOf = (listener: Listener, tls: boolean): string => {
  const a = listener.address();
  return `${tls ? 'https' : 'http'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
};

/** /metrics of every worker process, summed (prom-client's cluster aggregation). */
function clusterMetrics(worker: WorkerLink, registry: Registry): MetricsSource {
  worker.onCollect('metrics', () => registry.getMetricsAsJSON());
  return {
    contentType: registry.contentType,
    async metrics() {
      const all = (await worker.gather('metrics')).filter((v): v is Parameters<typeof AggregatorRegistry.aggregate>[0][number] => Array.isArray(v));
      return AggregatorRegistry.aggregate(all).metrics();
    },
  };
}

/** Builds and starts regcache. */
export async function startApp(config: Config, opts: AppOptions = {}): Promise<App> {
  // Asynchronous stdout: lines written while a write is in flight go out
  // together (one syscall for many request lines under load, none delayed
  // when idle); pino flushes what is left when the process exits.
  const { worker } = opts;
  const log = opts.log ?? pino({ level: config.log.level, base: worker ? { svc: 'regcache', worker: worker.slot } : { svc: 'regcache' } }, pino.destination({ dest: 1, sync: false }));
  /** Housekeeping, the admin API and the stats flush run in one process: the only one, or the lead worker. */
  const lead = worker?.lead ?? true;
  const listen = parseListenAddress(config.server.listen);
  if (!listen) throw new Error(`invalid listen address ${config.server.listen}`);

  const { store, redirect } = await createStore(config);
  await store.init();
  const usage = createUsageTracker(store);
  const stats = await createStats(store, worker ? { peers: worker } : {});
  const metrics = createMetrics({ inflight: () => cache.inflight, usage });
  const redis = config.coordination.redis;
  let lastCoordinationWarning = 0;
  const fleet = redis
    ? (await import('./coordination/redis-coordinator.js')).createRedisCoordinator({
        url: redis.url,
        leaseMs: redis.lease,
        onError: (err) => {
          if (Date.now() - lastCoordinationWarning < 60_000) return;
          lastCoordinationWarning = Date.now();
          log.warn({ err: err.message }, 'coordination unavailable: filling without fleet-wide single-flight');
        },
      })
    : undefined;
  const coordinator: Coordinator | undefined = worker ? (fleet ? layered(worker.coordinator, fleet) : worker.coordinator) : fleet;
  const cache = createCache({
    store,
    ...(coordinator ? { coordinator } : {}),
    observer: {
      onFillEnd(key, o) {
        // A relayed fill's download is counted by the worker that made it.
        if (!o.relayed) {
          stats.onFill(o.bytes, o.ok);
          metrics.onFill(o.bytes, o.ok, o.error?.code);
        }
        const relayed = o.relayed ? { relayed: true } : {};
        if (o.ok) log.debug({ key, bytes: o.bytes, ms: o.ms, ...relayed }, 'fill committed');
        else log.warn({ key, bytes: o.bytes, ms: o.ms, code: o.error?.code, err: o.error?.message, ...relayed }, 'fill failed, nothing committed');
      },
      onLoadError(key, error) {
        metrics.onLoadError(error.code);
        log.debug({ key, code: error.code, err: error.message }, 'metadata load failed');
      },
      onBackgroundError(key, error, what) {
        log.warn({ key, what, code: error.code, err: error.message }, 'background cache operation failed');
      },
      onRevalidated(key, notModified) {
        metrics.onRevalidated(notModified);
        log.debug({ key, notModified }, 'stored copy revalidated');
      },
    },
  });
  const client = createUpstreamClient({
    connectTimeoutMs: config.upstream.connectTimeout,
    headersTimeoutMs: config.upstream.headersTimeout,
    bodyTimeoutMs: config.upstream.bodyTimeout,
    userAgent: `regcache/${VERSION}`,
    onResponse: (e) => metrics.onUpstream(e),
  });
  const terraform = await createTerraformMirrors({ config, cache, store, client, signingKeyFile: join(config.storage.path, 'url-signing.key') });
  const housekeeping = startHousekeeping(cache, usage, { maxSize: config.storage.maxSize, expireAfterMs: config.storage.expireAfter, intervalMs: config.storage.cleanupInterval, retention: lead }, log);
  worker?.onForget((key) => cache.forget(key));
  const jobs = createJobs();

  const { tls, caPath } = await resolveTls(config, log, listen.host);
  const endpoints: Endpoint[] = [...createHealthEndpoints(store)];
  const metricsSource = worker ? clusterMetrics(worker, metrics.registry) : metrics.registry;
  const metricsEndpoint = config.metrics.path === false ? undefined : createMetricsEndpoint(metricsSource, config.metrics.path, config.metrics.token);
  if (metricsEndpoint) endpoints.push(metricsEndpoint);
  if (config.admin.token) {
    const admin = createAdminEndpoints({ token: config.admin.token, cache, store, stats, usage, jobs, warm: (items, progress) => terraform.warm(items, progress), gc: (dryRun) => housekeeping.gc(dryRun) });
    // Warm jobs, gc and stats have one home: the other workers hand admin requests to the lead.
    endpoints.push(...(worker && !lead ? [createAdminForward(worker.leadSocket, admin)] : admin));
  }
  endpoints.push(...createStatusPage({ version: VERSION, caPath, storeKind: store.kind, upstreamHosts: terraform.upstreamHosts, stats, usage }));

  const requestLog = createRequestLog(log);
  const onRequest = (e: RequestEvent): void => {
    requestLog(e);
    metrics.onRequest(e);
    stats.onRequest(e);
  };
  const handlerDeps = {
    cache,
    redirect,
    publicUrl: config.server.publicUrl,
    trustProxy: config.server.trustProxy,
    tls: tls !== undefined,
    onRequest,
    onInternalError: (err: unknown, path: string) => log.error({ err, path }, 'internal error'),
  };
  const handler = createHandler({ ...handlerDeps, endpoints, mirrors: terraform.mirrors, preparedBytes: PREPARED_ANSWER_BYTES });
  const listener = await startListener(listen.host, listen.port, tls, handler);
  // Other workers follow this one's fills here, and the lead answers their forwarded admin requests.
  const internal: InternalListener | undefined = worker
    ? await startInternalListener(worker.socket, cache, lead ? handler : (_req, res) => res.writeHead(404, { 'content-length': '0' }).end())
    : undefined;
  let metricsListener: Listener | undefined;
  const metricsAddr = config.metrics.listen ? parseListenAddress(config.metrics.listen) : undefined;
  if (metricsAddr) {
    const only = createMetricsEndpoint(metricsSource, config.metrics.path === false ? '/metrics' : config.metrics.path, config.metrics.token);
    metricsListener = await startListener(metricsAddr.host, metricsAddr.port, undefined, createHandler({ ...handlerDeps, tls: false, endpoints: [only], mirrors: [] }));
  }
  const url = urlOf(listener, tls !== undefined);
  const metricsUrl = metricsListener ? urlOf(metricsListener, false) : undefined;
  const started = { url, metricsUrl, ...(worker ? { pid: process.pid } : {}), store: store.kind, storagePath: config.storage.path, upstreams: terraform.upstreamHosts, admin: config.admin.token !== undefined, version: VERSION };
  // With workers, the primary says 'regcache listening' once every worker is.
  log.info(started, worker ? 'worker listening' : 'regcache listening');
  worker?.ready({ url, caPath, metricsUrl });

  let stopping: Promise<void> | undefined;
  return {
    url,
    metricsUrl,
    log,
    store,
    cache,
    caPath,
    stop() {
      stopping ??= (async () => {
        housekeeping.stop();
        await Promise.all([listener.stop(config.server.shutdownTimeout), metricsListener?.stop(1000)]);
        await cache.close();
        await internal?.close();
        await coordinator?.close();
        await jobs.idle();
        await stats.stop();
        await client.close();
        await store.close();
        log.info('regcache stopped');
      })();
      return stopping;
    },
  };
}
