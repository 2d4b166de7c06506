/**
 * The `provider_mirror:` block, with the keys of the experimental
 * oci-distribution-terraform-registry (its config keys are the contract):
 * the OCI Distribution registry holding the providers (`origin_url`), the
 * repository prefix they live under (`name_prefix`), and whether a
 * client's bearer token may be used to download packages
 * (`proxy_packages`). `route` is the core's.
 */
import { z } from 'zod';
import { baseUrl } from '../../config/types.js';
import { isRepository } from '../oci/names.js';

/** The validated `provider_mirror:` block. */
export const providerMirrorSettingsSchema = z.strictObject({
  origin_url: baseUrl('origin_url'),
  /** Repository path before `<hostname>/<namespace>/<type>` ("" = none). */
  name_prefix: z
    .string()
    .trim()
    .transform((p) => p.replace(/^\/+|\/+$/g, ''))
    .refine((p) => p === '' || (isRepository(p) && p.split('/').length <= 8), { error: 'name_prefix must be an OCI repository path (lowercase components joined by "/", at most 8)' })
    .prefault(''),
  proxy_packages: z.boolean().prefault(false),
});

/** The validated block. */
export type ProviderMirrorSettings = z.output<typeof providerMirrorSettingsSchema>;
