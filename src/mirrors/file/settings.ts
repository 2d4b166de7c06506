/**
 * The `file` mode's settings, in cache-proxy's field names and value types
 * (its config keys are a contract): upstreams tried in order, forwarded
 * request headers, the default policy and its freshness, and `rules[]`
 * with doublestar `match` patterns. `route`, `bind`, `display_url`,
 * `expire_after` and `transport` are the keys every mode shares; the core
 * reads those (see config/instances.ts).
 */
import { z } from 'zod';
import { baseUrl, busyPolicy, cachePolicy, duration, expiration, freshness, globPattern, size } from '../../config/types.js';

/** How a path is cached: streamed through, fetched once, or kept and revalidated. */
export type FilePolicy = 'bypass' | 'immutable' | 'revalidate';

/** What a request gets while its object is being downloaded or revalidated by another one. */
export type BusyPolicy = 'bypass' | 'stale';

/** An HTTP header name (RFC 9110 token). */
const headerName = z
  .string()
  .trim()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, { error: 'expected a header name like X-Custom' })
  .transform((h) => h.toLowerCase());

const rule = z.strictObject({
  match: globPattern,
  policy: cachePolicy.optional(),
  fresh_for: freshness.optional(),
  busy_policy: busyPolicy.optional(),
  expire_after: expiration.optional(),
});

/** One `rules[]` entry as validated. */
export type FileRule = z.output<typeof rule>;

/** The `file:` block of an instance (its own keys). */
export const fileSettingsSchema = z.strictObject({
  upstreams: z.array(baseUrl('upstream')).min(1, { error: 'file mode needs at least one upstream' }).max(16),
  pass_headers: z.array(headerName).max(32).prefault([]),
  default_policy: cachePolicy.prefault('bypass'),
  fresh_for: freshness.prefault(0),
  busy_policy: busyPolicy.prefault('bypass'),
  not_found_ttl: duration.prefault(0),
  /** regcache extension: the largest file stored or passed through; a larger announced or streamed body fails (502). */
  max_size: size.prefault('16GiB'),
  rules: z.array(rule).max(256).prefault([]),
});

/** The validated `file:` block. */
export type FileSettings = z.output<typeof fileSettingsSchema>;
