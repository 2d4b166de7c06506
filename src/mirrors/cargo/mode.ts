/**
 * The `cargo` mode: a pull-through cache of a Cargo sparse registry
 * (index.crates.io, or any sparse registry). Clients replace crates.io
 * with `sparse+<regcache>/<mount>/`.
 *
 * - `config.json` is kept as upstream sent it (revalidated like an index
 *   file) and served with `dl` / `api` pointing at regcache and
 *   `auth-required` from the settings (registry-config.ts).
 * - Index files are mutable artifacts revalidated with ETag /
 *   Last-Modified after `index_fresh_for` (scoped-file.ts).
 * - `.crate` files are verified against the index line's `cksum` before
 *   they are stored (crate-download.ts); the upstream's download host
 *   comes from its own config.json.
 * - Private crates (auth_required): private-access.ts.
 */
import { defineMode } from '../mode.js';
import { createCargoMirror } from './cargo-mirror.js';
import { describeCrates, cargoPurgeTarget } from './listing.js';
import { configKey, configScope, crateScope, indexKey, indexPrefix, instancePrefix } from './names.js';
import { createCargoAccess } from './private-access.js';
import { checkRegistryConfig, downloadUrl, upstreamDl } from './registry-config.js';
import { createScopedFiles, type ScopedFile } from './scoped-file.js';
import { cargoSettingsSchema } from './settings.js';
import { cargoStatus } from './snippets.js';

/** Largest config.json or index file accepted. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** How long a crate upstream does not have is answered 404 from memory (one upstream request per period, not per client). */
const NOT_FOUND_TTL_MS = 10_000;

/** The registration of the `cargo` mode. */
export const cargoMode = defineMode({
  name: 'cargo',
  summary: 'Cargo sparse registry (crates.io): config.json rewritten, index revalidated, .crate files verified against the index cksum',
  schema: cargoSettingsSchema,
  upstreamUrls: (settings) => [settings.upstream],
  create(ctx, settings) {
    const upstream = settings.upstream;
    const access = createCargoAccess(ctx.cache, ctx.client, settings.auth_required);
    const files = createScopedFiles({
      cache: ctx.cache,
      client: ctx.client,
      access,
      freshForMs: settings.index_fresh_for,
      busy: settings.index_busy_policy,
      expireAfterMs: ctx.expireAfterMs,
      maxBytes: MAX_INDEX_BYTES,
      notFoundTtlMs: NOT_FOUND_TTL_MS,
    });
    const configFile: ScopedFile = {
      scope: configScope(ctx.instance),
      key: configKey(ctx.instance),
      url: `${upstream}/config.json`,
      contentType: 'application/json',
      check: checkRegistryConfig,
    };
    const indexFile = (lname: string): ScopedFile => ({
      scope: crateScope(ctx.instance, lname),
      key: indexKey(ctx.instance, lname),
      url: `${upstream}/${indexPrefix(lname)}/${lname}`,
      contentType: 'text/plain; charset=utf-8',
    });
    const mirror = createCargoMirror({
      instance: ctx.instance,
      client: ctx.client,
      upstreamOrigin: new URL(upstream).origin,
      policy: settings.crate_policy,
      freshForMs: settings.index_fresh_for,
      expireAfterMs: ctx.expireAfterMs,
      maxBytes: settings.max_crate_size,
      mount: ctx.mount,
      publicUrl: ctx.publicUrl,
      authRequired: settings.auth_required,
      loadConfig: (cred) => files.load(configFile, cred),
      loadIndexFor: (lname, cred, fresh) => files.load(indexFile(lname), cred, fresh),
      // A published version's cksum and the download template do not change: a download reads the stored
      // copies as they are (cargo's own index and config.json requests keep them fresh).
      upstreamDlFor: async (cred) => upstreamDl((await files.load(configFile, cred, Number.POSITIVE_INFINITY)).body, configFile.url),
      downloadUrl,
      scopeOf: (lname) => crateScope(ctx.instance, lname),
    });
    return Promise.resolve({
      mirrors: [mirror],
      keyPrefixes: [instancePrefix(ctx.instance)],
      upstreamHosts: [new URL(upstream).host],
      purgeTarget: (segments) => cargoPurgeTarget(ctx.instance, segments),
      describe: (objects) => describeCrates(ctx.instance, objects),
      status: (baseUrl) => cargoStatus(ctx.publicUrl ?? baseUrl, ctx.mount, upstream, settings.auth_required),
    });
  },
});
