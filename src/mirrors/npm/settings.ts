/**
 * The `npm` mode's settings, in cache-proxy's field names, types and
 * defaults (pkg/proxy/npm/policy.go): one upstream registry, the packument
 * policy and its freshness (`metadata_fresh_for` at least 1s when set), what
 * a packument request gets while another one revalidates it, and the
 * tarball policy. `max_packument_size` and `private` are regcache
 * extensions: the largest packument read, and how private packages (the
 * client's own token, checked upstream) are remembered.
 */
import { z } from 'zod';
import { baseUrl, busyPolicy, cachePolicy, duration, freshness, size } from '../../config/types.js';

const privateSettings = z.strictObject({
  /** How long upstream's acceptance of a client token is trusted without asking again. */
  auth_cache_ttl: duration.prefault('5m'),
  /** How long an upstream 401/404 for a package is answered from memory. */
  negative_ttl: duration.prefault('10s'),
  /** Client tokens tried upstream per private package and minute. */
  checks_per_minute: z.number().int().min(1).max(100_000).prefault(60),
});

/** The `npm:` block of an instance (its own keys). */
export const npmSettingsSchema = z.strictObject({
  upstream: baseUrl('upstream'),
  metadata_policy: cachePolicy.prefault('revalidate'),
  metadata_fresh_for: freshness.prefault(0).refine((ms) => ms === 0 || ms >= 1000, { error: 'metadata_fresh_for must be at least 1s' }),
  metadata_busy_policy: busyPolicy.prefault('stale'),
  tarball_policy: cachePolicy.prefault('immutable'),
  /** regcache extension: the largest packument read (full packuments of busy packages run to tens of MB). */
  max_packument_size: size.prefault('64MiB'),
  private: privateSettings.prefault({}),
});

/** The validated `npm:` block. */
export type NpmSettings = z.output<typeof npmSettingsSchema>;
