/**
 * `ls` and `gc` without a server: the fs store under the configuration's
 * storage.path, opened by this process. Chosen by giving `--config` or
 * `--storage-path` instead of `--server`, so it is never a silent fallback.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { startInstances } from '../app-instances.js';
import { createCache } from '../core/cache.js';
import type { MountedInstance } from '../mirrors/mode.js';
import { createFsStore } from '../storage/fs/fs-store.js';
import { createUpstreamClient } from '../upstream/client.js';
import { createOutboundPolicy } from '../upstream/policy.js';
import { pino } from 'pino';
import type { Store } from '../core/store.js';
import { CommandError, serverUrl, UsageError } from './kit/tool-io.js';
import type { CliToolContext } from './args.js';

/** Where a command works: a server or a store. */
export type Target = { kind: 'server'; url: URL } | { kind: 'store'; config: Config; store: Store };

/** Decides between server and direct mode and opens the store for the latter. */
export async function resolveTarget(ctx: CliToolContext): Promise<Target> {
  const direct = ctx.args.configFile !== undefined || ctx.args.flags.storagePath !== undefined;
  if (direct && ctx.opts.server !== undefined) throw new UsageError('give --server, or --config/--storage-path for the store, not both');
  if (!direct) {
    const url = serverUrl(ctx);
    if (url === undefined) throw new UsageError('no server given: --server URL or REGCACHE_SERVER, or --config / --storage-path to open a store');
    return { kind: 'server', url };
  }
  let config: Config;
  try {
    config = await loadConfig({ file: ctx.args.configFile, env: ctx.env, flags: ctx.args.flags });
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(`invalid configuration:\n  ${err.issues.join('\n  ')}`);
    throw err;
  }
  const root = join(config.storage.path, 'cache');
  if (!(await stat(join(root, 'objects')).then((s) => s.isDirectory(), () => false))) {
    throw new CommandError(`no regcache store at ${config.storage.path} (expected ${join(root, 'objects')})`);
  }
  const store = createFsStore({ root });
  await store.init();
  return { kind: 'store', config, store };
}

/**
 * The configured instances over a store opened by this process, to ask
 * their modes what the stored keys are. Nothing is fetched: the instances
 * only describe keys (their outbound client is never used).
 */
export async function offlineInstances(config: Config, store: Store): Promise<MountedInstance[]> {
  const policy = createOutboundPolicy({ allowHttp: false, allowPrivateAddresses: false, allowAddresses: [], configuredUrls: [] });
  const clientOptions = { connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, metadataDeadlineMs: 1000, holdBackAllBelow: 0, policy, userAgent: 'regcache-cli' };
  const client = createUpstreamClient(clientOptions);
  try {
    return await startInstances({ config, cache: createCache({ store }), store, client, clientOptions, log: pino({ level: 'silent' }) });
  } finally {
    await client.close();
  }
}
