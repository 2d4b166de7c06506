/**
 * The Terraform mode's settings: upstream registries, metadata lifetimes,
 * git module sources, allow/deny policy, private-content lifetimes and the
 * limits on unpacking what upstreams send.
 */
import { z } from 'zod';
import { baseUrl, duration, size, upstreamHostProblem } from '../../config/types.js';

const upstreamHostSchema = z.strictObject({
  host: z.string().transform((host, ctx) => {
    const lower = host.toLowerCase();
    const problem = upstreamHostProblem(lower);
    if (problem === undefined) return lower;
    ctx.addIssue({ code: 'custom', message: `host ${JSON.stringify(host)} ${problem}`, input: host });
    return z.NEVER;
  }),
  url: baseUrl('url').optional(),
  token: z.string().min(1).optional(),
  unsigned: z.enum(['refuse', 'allow']).prefault('refuse'),
});

/** `upstreams:` (also read by the `tofu_oci` mode). */
export const upstreamListSchema = z
  .array(upstreamHostSchema.transform((entry) => ({ ...entry, url: entry.url ?? `https://${entry.host}` })))
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((entry, index) => {
      const first = seen.get(entry.host);
      if (first === undefined) seen.set(entry.host, index);
      else {
        const message = `duplicate upstream host "${entry.host}" (also terraform.upstreams[${first}])`;
        ctx.addIssue({ code: 'custom', message, path: [index, 'host'], input: entry.host });
      }
    });
  });

/** One `allow` / `deny` entry (also read by the `tofu_oci` mode). */
export const policyEntry = z.union([
  z.string().min(1),
  z.strictObject({ source: z.string().min(1), versions: z.string().min(1).optional() }),
]);

/** `metadata:` lifetimes of registry answers (also read by the `tofu_oci` mode). */
export const metadataSchema = z.strictObject({
  ttl: duration.prefault('10m'),
  staleIfError: duration.prefault('7d'),
});

/** `limits:` bounds on unpacking (also read by the `tofu_oci` mode). */
export const limitsSchema = z.strictObject({
  maxInflatedBytes: size.prefault('2GiB'),
  maxRatio: z.number().min(1).prefault(1000),
  ratioMinBytes: size.prefault('1MiB'),
  maxEntries: z.number().int().min(1).prefault(100_000),
  /** The largest provider zip or module archive accepted; a larger announced or streamed body fails (502 ERR_UPSTREAM_TOO_LARGE). */
  maxArtifactBytes: size.prefault('8GiB'),
  /** A zip that failed to hash is not hashed again for this long (per stored content). */
  failureTtl: duration.prefault('1h'),
});

/** The `terraform:` section. */
export const terraformSettingsSchema = z.strictObject({
  upstreams: upstreamListSchema.prefault([]),
  metadata: metadataSchema.prefault({}),
  git: z
    .strictObject({
      hosts: z
        .array(
          z.string().transform((host, ctx) => {
            const lower = host.toLowerCase();
            const problem = upstreamHostProblem(lower);
            if (problem === undefined) return lower;
            ctx.addIssue({ code: 'custom', message: `host ${JSON.stringify(host)} ${problem}`, input: host });
            return z.NEVER;
          }),
        )
        .prefault(['github.com']),
      allowHttp: z.boolean().prefault(false),
      timeout: duration.prefault('120s'),
      /** git processes (ls-remote, fetch + archive) running at once; the rest wait in line. */
      maxProcesses: z.number().int().min(1).max(64).prefault(4),
      /** A failed ls-remote or fetch is answered from memory this long instead of running git again. */
      failureTtl: duration.prefault('30s'),
    })
    .prefault({}),
  /** Bounds on unpacking (h1 of provider zips, git archives); defaults no real artifact comes near. */
  limits: limitsSchema.prefault({}),
  allow: z.array(policyEntry).prefault([]),
  deny: z.array(policyEntry).prefault([]),
  private: z
    .strictObject({
      authCacheTtl: duration.prefault('60s'),
      signedUrlTtl: duration.prefault('15m'),
      /** Upstream 404/401 answers remembered per key and credential (0 = off). */
      negativeTtl: duration.prefault('5s'),
      /** Credentials upstream may refuse per private scope and minute before new ones are refused unasked. */
      checksPerMinute: z.number().int().min(1).max(100_000).prefault(10),
    })
    .prefault({}),
});

/** Validated Terraform settings. */
export type TerraformSettings = z.output<typeof terraformSettingsSchema>;

/** One configured upstream registry host, as the rest of the code sees it. */
export type UpstreamHostConfig = TerraformSettings['upstreams'][number];
