/**
 * Composition root: builds store, cache engine, upstream client, adapters
 * and the listener from a validated Config. Used by the CLI and by tests,
 * which start real instances on loopback ports.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import type { Config } from './config/schema.js';
import { parseListenAddress } from './config/schema.js';
import { createCache, type Cache } from './core/cache.js';
import { createHandler } from './http/handler.js';
import { ensureSelfSignedTls } from './http/self-signed.js';
import { startListener, type Listener, type ListenerTls } from './http/server.js';
import type { Mirror } from './mirrors/mirror.js';
import { createNetworkMirror } from './mirrors/terraform/network-mirror.js';
import { createProviderPackages } from './mirrors/terraform/provider-package.js';
import { createRegistryReader } from './mirrors/terraform/registry.js';
import { createRegistryUpstreams, DEFAULT_REGISTRY_HOSTS } from './mirrors/terraform/upstreams.js';
import { createAccess } from './mirrors/terraform/access.js';
import { createDiscoveryDoc } from './mirrors/terraform/discovery-doc.js';
import { createProviderRegistry } from './mirrors/terraform/provider-registry.js';
import { createModuleArchives } from './mirrors/terraform/module-archive.js';
import { createModuleReader } from './mirrors/terraform/module-reader.js';
import { createModuleRegistry } from './mirrors/terraform/module-registry.js';
import { loadSigningKey } from './mirrors/terraform/signing-key.js';
import { createFsStore } from './storage/fs/fs-store.js';
import type { Store } from './storage/store.js';
import { createUpstreamClient } from './upstream/client.js';
import { VERSION } from './version.js';

/** A running regcache instance. */
export interface App {
  readonly url: string;
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
}

async function resolveTls(config: Config, log: Logger, host: string): Promise<{ tls: ListenerTls; caPath: string | undefined }> {
  const t = config.server.tls;
  if (t === false) return { tls: undefined, caPath: undefined };
  if (t) return { tls: { cert: await readFile(t.cert, 'utf8'), key: await readFile(t.key, 'utf8') }, caPath: undefined };
  const names = new Set(['localhost', '127.0.0.1', '::1', hostname()]);
  if (host !== '0.0.0.0' && host !== '::') names.add(host);
  if (config.server.publicUrl) names.add(new URL(config.server.publicUrl).hostname.replace(/^\[|\]$/g, ''));
  const dir = join(config.storage.path, 'tls');
  const s = await ensureSelfSignedTls(dir, [...names]);
  log.info({ caPath: s.caPath, created: s.created }, 'self-signed TLS in use: clients must trust this CA');
  return { tls: { cert: s.certPem, key: s.keyPem }, caPath: s.caPath };
}

/** Builds and starts regcache. */
export async function startApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log = opts.log ?? pino({ level: config.log.level, base: { svc: 'regcache' } });
  const listen = parseListenAddress(config.server.listen);
  if (!listen) throw new Error(`invalid listen address ${config.server.listen}`);

  const store = createFsStore({ root: join(config.storage.path, 'cache') });
  await store.init();
  const cache = createCache({
    store,
    observer: {
      onFillEnd(key, o) {
        if (o.ok) log.debug({ key, bytes: o.bytes, ms: o.ms }, 'fill committed');
        else log.warn({ key, bytes: o.bytes, ms: o.ms, code: o.error?.code, err: o.error?.message }, 'fill failed, nothing committed');
      },
      onBackgroundError(key, error, what) {
        log.warn({ key, what, code: error.code, err: error.message }, 'background cache operation failed');
      },
    },
  });
  const client = createUpstreamClient({
    connectTimeoutMs: config.upstream.connectTimeout,
    headersTimeoutMs: config.upstream.headersTimeout,
    bodyTimeoutMs: config.upstream.bodyTimeout,
    userAgent: `regcache/${VERSION}`,
  });
  const upstreams = createRegistryUpstreams(config.terraform.upstreams);
  const access = createAccess({
    cache,
    signingKey: await loadSigningKey(config.server.urlSigningKey, join(config.storage.path, 'url-signing.key')),
    authCacheTtlMs: config.terraform.private.authCacheTtl,
    signedUrlTtlMs: config.terraform.private.signedUrlTtl,
  });
  const timing = { ttlMs: config.terraform.metadata.ttl, staleIfErrorMs: config.terraform.metadata.staleIfError, maxMetadataBytes: config.upstream.maxMetadataBytes };
  const registry = createRegistryReader(cache, client, access, timing);
  const packages = createProviderPackages({ cache, store, client, registry });
  const adapterDeps = { upstreams, registry, packages, access, parallelism: config.upstream.parallelism };
  const git = { timeoutMs: config.terraform.git.timeout, allowHttp: config.terraform.git.allowHttp };
  const mirrors: Mirror[] = [
    createNetworkMirror(adapterDeps),
    createProviderRegistry(adapterDeps),
    createModuleRegistry({
      upstreams,
      access,
      modules: createModuleReader({ cache, client, registry, timing, git }),
      archives: createModuleArchives({ cache, client, git }),
      gitHosts: config.terraform.git.hosts,
      allowHttpGit: config.terraform.git.allowHttp,
    }),
    createDiscoveryDoc(config.terraform.upstreams[0]?.host ?? DEFAULT_REGISTRY_HOSTS[0]),
  ];

  const { tls, caPath } = await resolveTls(config, log, listen.host);
  const handler = createHandler({
    mirrors,
    cache,
    store,
    log,
    publicUrl: config.server.publicUrl,
    trustProxy: config.server.trustProxy,
    tls: tls !== undefined,
  });
  const listener: Listener = await startListener(listen.host, listen.port, tls, handler);
  const addr = listener.address();
  const hostPart = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  const url = `${tls ? 'https' : 'http'}://${hostPart}:${addr.port}`;
  log.info({ url, store: store.kind, storagePath: config.storage.path, upstreams: upstreams.hosts, version: VERSION }, 'regcache listening');

  let stopping: Promise<void> | undefined;
  return {
    url,
    log,
    store,
    cache,
    caPath,
    stop() {
      stopping ??= (async () => {
        await listener.stop(config.server.shutdownTimeout);
        await cache.close();
        await client.close();
        await store.close();
        log.info('regcache stopped');
      })();
      return stopping;
    },
  };
}
