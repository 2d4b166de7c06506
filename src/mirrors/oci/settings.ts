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
import picomatch from 'picomatch';
import { z } from 'zod';
import { baseUrl, expiration, freshness, size, upstreamHostProblem } from '../../config/types.js';

/** How a repository's tags (and, for bypass, everything) are handled. */
export type OciPolicy = 'bypass' | 'immutable' | 'revalidate';

/** What a request gets while its tag is being downloaded or revalidated by another one. */
export type OciBusyPolicy = 'bypass' | 'stale';

/** Doublestar-like glob options (cache-proxy's glob library) for repository names. */
export const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true, strictBrackets: true, windows: false };

const policy = z.enum(['bypass', 'immutable', 'revalidate'], { error: 'expected bypass, immutable or revalidate' });
const busy = z.enum(['bypass', 'stale'], { error: 'expected bypass or stale' });

const glob = z
  .string()
  .trim()
  .min(1, { error: 'match is empty' })
  .max(512)
  .superRefine((pattern, ctx) => {
    try {
      picomatch.makeRe(pattern, GLOB_OPTIONS);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid match ${JSON.stringify(pattern)}: ${(err as Error).message}`, input: pattern });
    }
  });

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
  match: glob,
  policy: policy.prefault('bypass'),
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
  default_policy: policy.prefault('bypass'),
  fresh_for: freshFor.prefault(0),
  busy_policy: busy.prefault('bypass'),
  rules: z.array(rule).max(256).prefault([]),
  /** regcache extension: the largest blob stored or passed through. */
  max_size: size.prefault('16GiB'),
  /** regcache extension: further registries on this listener, chosen by `?ns=<name>`. */
  registries: z.record(nsName, extraRegistry).prefault({}),
});

/** The validated `oci:` block. */
export type OciSettings = z.output<typeof ociSettingsSchema>;
