/**
 * The `oci` mode's settings, in cache-proxy's field names (its `oci:` block
 * is a contract): one `upstream` registry, `auth` (none / basic / bearer),
 * the tag policy (`default_policy`, `fresh_for`, `busy_policy`) and
 * `rules[]` matched against repository names (the first matching rule
 * decides, as in cache-proxy; a rule without `policy` means bypass).
 * regcache extensions: `max_size`, and `registries`, further upstreams
 * selected by the containerd `?ns=<registry>` query on the same listener.
 * `bind`, `display_url`, `expire_after` and `transport` are the keys every
 * mode shares; the core reads those.
 */
import { z } from 'zod';
import { baseUrl, busyPolicy, cachePolicy, expiration, freshness, globPattern, size, upstreamHostProblem } from '../../config/types.js';

/** How a repository's tags (and, for bypass, everything) are handled. */
export type OciPolicy = 'bypass' | 'immutable' | 'revalidate';

/** What a request gets while its tag is being downloaded or revalidated by another one. */
export type OciBusyPolicy = 'bypass' | 'stale';

const secret = z.string().min(1).max(4096);

/** `auth:` as cache-proxy reads it: `type` none, basic (username + password) or bearer (token). */
const auth = z
  .strictObject({
    type: z.enum(['none', 'basic', 'bearer', '']).prefault('none'),
    username: z.string().max(1024).optional(),
    password: secret.optional(),
    token: secret.optional(),
  })
  .superRefine((a, ctx) => {
    if (a.type === 'basic' && (a.username === undefined || a.username === '' || a.password === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'oci basic auth requires username and password' });
    }
    if (a.type === 'bearer' && a.token === undefined) ctx.addIssue({ code: 'custom', message: 'oci bearer auth requires token' });
  });

/** The validated `auth:` block. */
export type OciAuth = z.output<typeof auth>;

const rule = z.strictObject({
  match: globPattern,
  policy: cachePolicy.prefault('bypass'),
  expire_after: expiration.optional(),
});

/** One `rules[]` entry as validated. */
export type OciRule = z.output<typeof rule>;

const freshFor = freshness.refine((ms) => ms === 0 || ms >= 1000, { error: 'oci fresh_for must be at least 1s' });

/** A further upstream, named as clients name it in `?ns=` ("ghcr.io"). */
const extraRegistry = z.strictObject({
  upstream: baseUrl('upstream'),
  auth: auth.optional(),
});

const nsName = z.string().superRefine((host, ctx) => {
  const problem = upstreamHostProblem(host);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `registries: ${JSON.stringify(host)} ${problem}` });
});

/** The `oci:` block of an instance (its own keys). */
export const ociSettingsSchema = z.strictObject({
  upstream: baseUrl('upstream'),
  auth: auth.optional(),
  default_policy: cachePolicy.prefault('bypass'),
  fresh_for: freshFor.prefault(0),
  busy_policy: busyPolicy.prefault('bypass'),
  rules: z.array(rule).max(256).prefault([]),
  /** regcache extension: the largest blob stored or passed through. */
  max_size: size.prefault('16GiB'),
  /** regcache extension: further registries on this listener, chosen by `?ns=<name>`. */
  registries: z.record(nsName, extraRegistry).prefault({}),
});

/** The validated `oci:` block. */
export type OciSettings = z.output<typeof ociSettingsSchema>;
