/**
 * The `cargo` mode's settings, in cache-proxy's field names, types and
 * defaults (its config keys are a contract): the upstream sparse index,
 * the policy of `.crate` files, how long index files are fresh and what a
 * request gets while one is being refreshed, and whether the served
 * config.json says `auth-required`. `route`, `bind`, `display_url`,
 * `expire_after` and `transport` are the keys every mode shares; the core
 * reads those.
 */
import { z } from 'zod';
import { baseUrl, busyPolicy, cachePolicy, freshness, size } from '../../config/types.js';

/** How `.crate` files are cached: streamed through (checked), fetched once, or kept and revalidated. */
export type CratePolicy = 'bypass' | 'immutable' | 'revalidate';

/** The `cargo:` block of an instance (its own keys). */
export const cargoSettingsSchema = z.strictObject({
  upstream: baseUrl('upstream'),
  crate_policy: cachePolicy.prefault('immutable'),
  /** 0 (cache-proxy's default): every index request asks upstream (conditionally, a 304 costs no body). */
  index_fresh_for: freshness.refine((ms) => ms === 0 || ms >= 1000, { error: 'index_fresh_for must be at least 1s (or 0)' }).prefault(0),
  index_busy_policy: busyPolicy.prefault('stale'),
  auth_required: z.boolean().prefault(false),
  /** regcache extension: the largest `.crate` accepted; a larger announced or streamed body fails (502). */
  max_crate_size: size.prefault('512MiB'),
});

/** The validated `cargo:` block. */
export type CargoSettings = z.output<typeof cargoSettingsSchema>;
