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
import { classifier, configuredUpstreamUrls, startInstances, type RunningInstance } from './app-instances.js';
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
import { createJobs } from './ops/jobs.js';
import { createMetrics } from './ops/metrics.js';
import { createRequestLog } from './ops/request-log.js';
import { startHousekeeping } from './ops/scheduler.js';
import { createStats } from './ops/stats.js';
import { createUsageTracker } from './ops/usage.js';
import { createFsStore } from './storage/fs/fs-store.js';
import type { Store } from './core/store.js';
import { createUpstreamClient } from './upstream/client.js';
import { createOutboundPolicy } from './upstream/policy.js';
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
  /** Configuration keys that have no effect (cache-proxy keys), logged once at start. */
  ignored?: readonly string[];
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

/** Starts a listener of its own for each instance with `bind` (its mirrors at the root). */
async function startDedicatedListeners(instances: readonly RunningInstance[], tls: Awaited<ReturnType<typeof resolveTls>>['tls'], deps: Omit<Parameters<typeof createHandler>[0], 'endpoints' | 'mirrors'>): Promise<Map<string, Listener>> {
  const out = new Map<string, Listener>();
  for (const i of instances) {
    if (i.bind === undefined) continue;
    const addr = parseListenAddress(i.bind);
    if (!addr) throw new Error(`instance ${i.name}: invalid bind ${i.bind}`);
    out.set(i.name, await startListener(addr.host, addr.port, tls, createHandler({ ...deps, endpoints: [], mirrors: i.mirrors })));
  }
  return out;
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
  const metrics = createMetrics({ inflight: () => cache.inflight, usage, upstreamHosts: configuredUpstreamUrls(config).flatMap((u) => [new URL(u).host, new URL(u).hostname]) });
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
    fillDeadlineMs: config.upstream.fillDeadline,
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
  const { allowHttp, allowPrivateAddresses, allowAddresses } = config.upstream;
  const clientOptions = {
    connectTimeoutMs: config.upstream.connectTimeout,
    headersTimeoutMs: config.upstream.headersTimeout,
    bodyTimeoutMs: config.upstream.bodyTimeout,
    metadataDeadlineMs: config.upstream.metadataDeadline,
    holdBackAllBelow: config.upstream.holdBackAllBelow,
    policy: createOutboundPolicy({ allowHttp, allowPrivateAddresses, allowAddresses, configuredUrls: configuredUpstreamUrls(config) }),
    userAgent: `regcache/${VERSION}`,
    onResponse: (e: { host: string; status: number | undefined; seconds: number }) => metrics.onUpstream(e),
  };
  const client = createUpstreamClient(clientOptions);
  const instances = await startInstances({ config, cache, store, client, clientOptions, log });
  const upstreamHosts = [...new Set(instances.flatMap((i) => i.instance.upstreamHosts))];
  const classify = classifier();
  const housekeeping = startHousekeeping(cache, usage, { maxSize: config.storage.maxSize, expireAfterMs: config.storage.expireAfter, intervalMs: config.storage.cleanupInterval, retention: lead, mode: config.storage.retentionMode, classify }, log);
  worker?.onForget((key) => cache.forget(key));
  const jobs = createJobs();

  const { tls, caPath } = await resolveTls(config, log, listen.host);
  const endpoints: Endpoint[] = [...createHealthEndpoints(store)];
  const metricsSource = worker ? clusterMetrics(worker, metrics.registry) : metrics.registry;
  const metricsEndpoint = config.metrics.path === false ? undefined : createMetricsEndpoint(metricsSource, config.metrics.path, config.metrics.token);
  if (metricsEndpoint) endpoints.push(metricsEndpoint);
  if (config.admin.token) {
    const admin = createAdminEndpoints({ token: config.admin.token, cache, store, stats, usage, jobs, instances, classify, gc: (dryRun) => housekeeping.gc(dryRun) });
    // Warm jobs, gc and stats have one home: the other workers hand admin requests to the lead.
    endpoints.push(...(worker && !lead ? [createAdminForward(worker.leadSocket, admin)] : admin));
  }
  endpoints.push(...createStatusPage({ version: VERSION, caPath, storeKind: store.kind, instances, stats, usage }));

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
  const onMain = instances.filter((i) => i.bind === undefined);
  const handler = createHandler({ ...handlerDeps, endpoints, mirrors: onMain.flatMap((i) => i.mirrors), preparedBytes: PREPARED_ANSWER_BYTES });
  const listener = await startListener(listen.host, listen.port, tls, handler);
  const dedicated = await startDedicatedListeners(instances, tls, handlerDeps);
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
  const modes = instances.map((i) => ({ instance: i.name, mode: i.mode, ...(i.bind ? { url: urlOf(dedicated.get(i.name) ?? listener, tls !== undefined) } : { mount: i.mount || '/' }) }));
  const started = { url, metricsUrl, ...(worker ? { pid: process.pid } : {}), store: store.kind, storagePath: config.storage.path, upstreams: upstreamHosts, instances: modes, admin: config.admin.token !== undefined, version: VERSION };
  // With workers, the primary says 'regcache listening' once every worker is.
  if (!worker || lead) for (const line of opts.ignored ?? []) log.warn({ ignored: line }, 'configuration key has no effect');
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
        await Promise.all([listener.stop(config.server.shutdownTimeout), metricsListener?.stop(1000), ...[...dedicated.values()].map((l) => l.stop(config.server.shutdownTimeout))]);
        await cache.close();
        await Promise.all(instances.map(async (i) => {
          await i.instance.close?.();
          await i.client?.close();
        }));
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
