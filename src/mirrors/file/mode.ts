/**
 * The generic `file` mode: a pull-through cache for any static HTTP tree
 * (release downloads, tool binaries, installers) with cache-proxy's policy
 * model (bypass / immutable / revalidate, fresh_for, busy_policy,
 * expire_after, rules[]). Mounted under its `route.path` or on its own
 * `bind`; stores under `file/<instance>/`. See docs/modes/file.md.
 */
import { defineMode } from '../mode.js';
import { createFileMirror } from './file-mirror.js';
import { describeFiles, filePurgeTarget } from './listing.js';
import { instancePrefix } from './paths.js';
import { createPolicyResolver } from './rules.js';
import { fileSettingsSchema } from './settings.js';
import { fileStatus } from './snippets.js';
import { createFileUpstreams } from './upstreams.js';

/** The registration of the `file` mode. */
export const fileMode = defineMode({
  name: 'file',
  summary: 'generic HTTP files (release downloads, binaries) with bypass / immutable / revalidate policies',
  schema: fileSettingsSchema,
  upstreamUrls: (settings) => [...settings.upstreams],
  create(ctx, settings) {
    const upstreams = createFileUpstreams(ctx.client, settings.upstreams, settings.pass_headers);
    if (upstreams.refusedHeaders.length > 0) {
      ctx.log.warn({ headers: upstreams.refusedHeaders }, 'pass_headers: these headers are never forwarded (credentials, hop-by-hop, or set by regcache)');
    }
    const mirror = createFileMirror({
      instance: ctx.instance,
      cache: ctx.cache,
      upstreams,
      resolve: createPolicyResolver(settings, ctx.expireAfterMs),
      notFoundTtlMs: settings.not_found_ttl,
      maxBytes: settings.max_size,
    });
    const hosts = settings.upstreams.map((u) => new URL(u).host);
    return Promise.resolve({
      mirrors: [mirror],
      keyPrefixes: [instancePrefix(ctx.instance)],
      upstreamHosts: hosts,
      purgeTarget: (segments) => filePurgeTarget(ctx.instance, segments),
      describe: (objects) => describeFiles(ctx.instance, objects),
      status: (baseUrl) => fileStatus(ctx.publicUrl ?? baseUrl, ctx.mount, settings.upstreams),
    });
  },
});
