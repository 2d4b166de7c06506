/**
 * The `pypi` mode's settings, in cache-proxy's field names, types and
 * defaults (pkg/proxy/pypi/policy.go): one upstream, the policy of project
 * indexes, of distribution files and of companions (`.metadata` sidecars),
 * and the switches for the JSON APIs and core-metadata sidecars. `route`,
 * `bind`, `display_url`, `expire_after` and `transport` are the keys every
 * mode shares; the core reads those.
 */
import { z } from 'zod';
import { baseUrl, busyPolicy, cachePolicy, freshness, size } from '../../config/types.js';

/** How a kind of object is cached (cache-proxy's three policies). */
export type PypiPolicy = 'bypass' | 'immutable' | 'revalidate';

/** What a request gets while its object is being downloaded or revalidated by another one. */
export type PypiBusy = 'bypass' | 'stale';

/** As cache-proxy: 0 (or absent) means the default, anything else must be at least one second. */
const freshFor = (fallbackMs: number) =>
  freshness
    .prefault(0)
    .transform((ms) => (ms === 0 ? fallbackMs : ms))
    .refine((ms) => ms >= 1000, { error: 'fresh_for must be at least 1s' });

/** The `pypi:` block of an instance (its own keys). */
export const pypiSettingsSchema = z.strictObject({
  upstream: baseUrl('upstream').prefault('https://pypi.org'),
  index_policy: cachePolicy.prefault('revalidate'),
  index_fresh_for: freshFor(60_000),
  index_busy_policy: busyPolicy.prefault('stale'),
  file_policy: cachePolicy.prefault('immutable'),
  companion_policy: cachePolicy.prefault('revalidate'),
  companion_fresh_for: freshFor(30_000),
  companion_busy_policy: busyPolicy.prefault('bypass'),
  /** Serve the PEP 691 JSON simple API and `/pypi/<name>/json`. */
  proxy_json: z.boolean().prefault(true),
  /** Serve `.metadata` sidecars (PEP 658 / 714); when off, indexes stop advertising them. */
  proxy_core_metadata: z.boolean().prefault(false),
  /** Accepted for cache-proxy files; regcache does not rewrite `.asc` signature links (PyPI no longer serves them). */
  proxy_signatures: z.boolean().prefault(false),
  /** regcache extension: the largest distribution file stored or passed through. */
  max_file_size: size.prefault('4GiB'),
});

/** The validated `pypi:` block. */
export type PypiSettings = z.output<typeof pypiSettingsSchema>;
