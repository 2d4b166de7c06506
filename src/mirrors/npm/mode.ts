/**
 * The `npm` mode: a pull-through cache of an npm registry (packuments, full
 * and abbreviated; dist-tags; tarballs) with cache-proxy's keys
 * (metadata_policy / metadata_fresh_for / metadata_busy_policy /
 * tarball_policy). Tarball URLs are rewritten to this server; tarballs are
 * verified against the packument's integrity before they are stored;
 * private packages are read with the client's own token and served only to
 * clients whose token upstream accepts. Stores under `npm/<instance>/`.
 * See docs/modes/npm.md.
 */
import { join } from 'node:path';
import { createAccess } from '../../access/access.js';
import { loadSigningKey } from '../../access/signing-key.js';
import { defineMode } from '../mode.js';
import { describeTarballs, npmPurgeTarget } from './listing.js';
import { instancePrefix } from './names.js';
import { createNpmMirror } from './npm-mirror.js';
import { createPackuments } from './packuments.js';
import { npmSettingsSchema } from './settings.js';
import { npmStatus } from './snippets.js';

/** The registration of the `npm` mode. */
export const npmMode = defineMode({
  name: 'npm',
  summary: 'npm registry (packuments, dist-tags, tarballs verified against their integrity; private packages)',
  schema: npmSettingsSchema,
  upstreamUrls: (settings) => [settings.upstream],
  async create(ctx, settings) {
    const access = createAccess({
      cache: ctx.cache,
      signingKey: await loadSigningKey(ctx.urlSigningKey, join(ctx.dataDir, 'url-signing.key')),
      authCacheTtlMs: settings.private.auth_cache_ttl,
      signedUrlTtlMs: 60_000,
      negativeTtlMs: settings.private.negative_ttl,
      checksPerMinute: settings.private.checks_per_minute,
    });
    const packuments = createPackuments({
      instance: ctx.instance,
      cache: ctx.cache,
      client: ctx.client,
      access,
      upstream: settings.upstream,
      policy: settings.metadata_policy,
      freshForMs: settings.metadata_fresh_for,
      maxBytes: settings.max_packument_size,
    });
    const mirror = createNpmMirror({
      mount: ctx.mount,
      publicUrl: ctx.publicUrl,
      packuments,
      tarballs: {
        instance: ctx.instance,
        cache: ctx.cache,
        client: ctx.client,
        access,
        packuments,
        upstream: settings.upstream,
        policy: settings.tarball_policy,
        expireAfterMs: ctx.expireAfterMs,
      },
    });
    return {
      mirrors: [mirror],
      keyPrefixes: [instancePrefix(ctx.instance)],
      upstreamHosts: [new URL(settings.upstream).host],
      purgeTarget: (segments) => npmPurgeTarget(ctx.instance, segments),
      describe: (objects) => describeTarballs(ctx.instance, objects),
      status: (baseUrl) => npmStatus(ctx.publicUrl ?? baseUrl, ctx.mount, settings.upstream),
    };
  },
});
