/**
 * The `tofu_oci` mode's settings. Its own keys are `repository_prefix`:
 * the leading repository components (default `providers`) before
 * `<hostname>/<namespace>/<type>`, and `module_repository_prefix` (default
 * `modules`) before `<hostname>/<namespace>/<name>/<system>`. The registry keys are the terraform
 * mode's (`upstreams`, `metadata`, `limits`, `allow`, `deny`, same schema
 * and defaults): the two public registries are always allowed, further
 * hosts are named in `upstreams`. `bind`, `display_url`, `expire_after`
 * and `transport` are the keys every mode shares; the core reads those.
 */
import { z } from 'zod';
import { limitsSchema, metadataSchema, policyEntry, upstreamListSchema } from '../terraform/settings.js';

/** An OCI repository name component (distribution spec grammar). */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

const prefix = z
  .string()
  .max(128)
  .transform((raw) => raw.replace(/^\/+|\/+$/g, ''))
  .superRefine((p, ctx) => {
    const parts = p === '' ? [] : p.split('/');
    if (parts.length > 4) ctx.addIssue({ code: 'custom', message: 'repository_prefix has at most 4 components' });
    for (const c of parts) {
      if (!COMPONENT.test(c)) ctx.addIssue({ code: 'custom', message: `repository_prefix component ${JSON.stringify(c)} is not a valid OCI repository component` });
    }
  });

/** The `tofu_oci:` block of an instance (its own keys). */
export const tofuOciSettingsSchema = z
  .strictObject({
  repository_prefix: prefix.prefault('providers'),
  module_repository_prefix: prefix.prefault('modules'),
  upstreams: upstreamListSchema.prefault([]),
  metadata: metadataSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  allow: z.array(policyEntry).prefault([]),
  deny: z.array(policyEntry).prefault([]),
  })
  .refine((s) => s.repository_prefix !== s.module_repository_prefix, { error: 'repository_prefix and module_repository_prefix must differ' });

/** The validated `tofu_oci:` block. */
export type TofuOciSettings = z.output<typeof tofuOciSettingsSchema>;
