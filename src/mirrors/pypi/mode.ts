/**
 * The `pypi` mode: a pull-through cache of a Python package index (PyPI,
 * or any PEP 503 / 691 simple API) with cache-proxy's keys. Project
 * indexes are stored normalized and rendered per request as HTML or JSON
 * with links to this server; files are fetched only from URLs an index
 * named and stored only once their sha256 matched. Stores under
 * `pypi/<instance>/`. See docs/modes/pypi.md.
 */
import { defineMode } from '../mode.js';
import { describePypi, pypiPurgeTarget } from './listing.js';
import { instancePrefix } from './names.js';
import { createPypiMirror } from './pypi-mirror.js';
import { pypiSettingsSchema } from './settings.js';
import { pypiStatus } from './snippets.js';
import { createUpstreamIndex } from './upstream-index.js';

/** The registration of the `pypi` mode. */
export const pypiMode = defineMode({
  name: 'pypi',
  summary: 'Python packages (PEP 503 / 691 simple API, files verified by sha256, .metadata sidecars, JSON API)',
  schema: pypiSettingsSchema,
  upstreamUrls: (settings) => [settings.upstream],
  create(ctx, s) {
    const maxDoc = ctx.limits.maxMetadataBytes;
    const expireAfterMs = ctx.expireAfterMs;
    const mirror = createPypiMirror({
      instance: ctx.instance,
      mount: ctx.mount,
      cache: ctx.cache,
      client: ctx.client,
      upstream: s.upstream,
      index: createUpstreamIndex(ctx.client, s.upstream, s.proxy_json, maxDoc),
      docs: { policy: s.index_policy, freshForMs: s.index_fresh_for, busy: s.index_busy_policy, expireAfterMs, maxBytes: maxDoc * 2 },
      files: { policy: s.file_policy, freshForMs: s.companion_fresh_for, busy: s.companion_busy_policy, expireAfterMs, maxBytes: s.max_file_size },
      companions: { policy: s.companion_policy, freshForMs: s.companion_fresh_for, busy: s.companion_busy_policy, expireAfterMs, maxBytes: maxDoc },
      json: s.proxy_json,
      coreMetadata: s.proxy_core_metadata,
    });
    return Promise.resolve({
      mirrors: [mirror],
      keyPrefixes: [instancePrefix(ctx.instance)],
      upstreamHosts: [new URL(s.upstream).host],
      purgeTarget: (segments) => pypiPurgeTarget(ctx.instance, segments),
      describe: (objects) => describePypi(ctx.instance, objects),
      status: (baseUrl) => pypiStatus(ctx.publicUrl ?? baseUrl, ctx.mount, s.upstream),
    });
  },
});
