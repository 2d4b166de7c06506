/**
 * Starts every configured mode instance (src/mirrors/modes.ts) over the
 * shared cache, store and outbound client: one ModeContext each, mirrors
 * mounted under the instance's path, and the class of objects stored
 * before classes were recorded answered by the modes that own them.
 */
import type { Logger } from 'pino';
import type { Config, InstanceConfig } from './config/schema.js';
import type { Cache } from './core/cache.js';
import { listenerBase } from './http/status-page.js';
import type { ObjectClass, ObjectMeta, Store } from './core/store.js';
import type { Mirror } from './mirrors/mirror.js';
import type { MountedInstance } from './mirrors/mode.js';
import { MODES } from './mirrors/modes.js';
import { createUpstreamClient, type UpstreamClient, type UpstreamClientOptions } from './upstream/client.js';

/** A started instance and what the composition root must close with it. */
export interface RunningInstance extends MountedInstance {
  /** An outbound client of its own (transport settings), closed with the instance. */
  readonly client: UpstreamClient | undefined;
}

/** What starting the instances needs from the composition root. */
export interface InstanceDeps {
  config: Config;
  cache: Cache;
  store: Store;
  client: UpstreamClient;
  clientOptions: UpstreamClientOptions;
  log: Logger;
}

function clientFor(inst: InstanceConfig, deps: InstanceDeps): UpstreamClient | undefined {
  const t = inst.transport;
  const set = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));
  const own = {
    ...set('userAgent', t.userAgent),
    ...set('connectTimeoutMs', t.connectTimeoutMs),
    ...set('headersTimeoutMs', t.headersTimeoutMs),
    ...set('bodyTimeoutMs', t.bodyTimeoutMs),
    ...set('proxy', t.proxy),
  };
  if (Object.keys(own).length === 0) return undefined;
  return createUpstreamClient({ ...deps.clientOptions, ...own });
}

/** Creates every enabled instance, in configuration order. */
export async function startInstances(deps: InstanceDeps): Promise<RunningInstance[]> {
  const { config } = deps;
  const out: RunningInstance[] = [];
  for (const inst of config.instances) {
    const mode = MODES.find((m) => m.name === inst.mode);
    if (!mode) throw new Error(`instance ${inst.name}: unknown mode ${inst.mode}`);
    const own = clientFor(inst, deps);
    const log = deps.log.child({ instance: inst.name });
    const instance = await mode.create(
      {
        instance: inst.name,
        cache: deps.cache,
        store: deps.store,
        client: own ?? deps.client,
        log: {
          info: (f, m) => log.info(f, m),
          warn: (f, m) => log.warn(f, m),
          debug: (f, m) => log.debug(f, m),
        },
        // An instance on its own listener is reached at the server's public host with that listener's port.
        publicUrl: inst.displayUrl ?? (config.server.publicUrl === undefined ? undefined : listenerBase(config.server.publicUrl, inst.bind)),
        dataDir: config.storage.path,
        urlSigningKey: config.server.urlSigningKey,
        limits: { maxMetadataBytes: config.upstream.maxMetadataBytes, parallelism: config.upstream.parallelism },
        mount: inst.bind ? '' : inst.mount,
        expireAfterMs: inst.expireAfterMs,
      },
      inst.settings,
    );
    const mountSegments = inst.bind || inst.mount === '' ? [] : inst.mount.slice(1).split('/');
    const mirrors = instance.mirrors.map((m): Mirror => ({ name: m.name, instance: inst.name, prefix: [...mountSegments, ...m.prefix], handle: (req) => m.handle(req) }));
    out.push({ name: inst.name, mode: inst.mode, mount: inst.bind ? '' : inst.mount, bind: inst.bind, instance, mirrors, client: own });
  }
  return out;
}

/**
 * The class of a stored object: recorded with it, or, for objects stored
 * before classes existed, what the owning mode says (metadata otherwise:
 * small, refetchable, never kept at the expense of artifacts).
 */
export function classifier(): (key: string, meta: ObjectMeta) => ObjectClass {
  return (key, meta) => {
    if (meta.class) return meta.class;
    if (key.startsWith('regcache/')) return 'marker';
    for (const m of MODES) {
      const c = m.legacyClass(key);
      if (c) return c;
    }
    return 'metadata';
  };
}

/** Every upstream base URL the configured instances name (the outbound policy's configured origins). */
export function configuredUpstreamUrls(config: Config): string[] {
  return config.instances.flatMap((inst) => MODES.find((m) => m.name === inst.mode)?.upstreamUrls(inst.settings) ?? []);
}
