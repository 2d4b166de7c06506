/**
 * The Terraform / OpenTofu mode: the provider network mirror
 * (`/v1/mirror/`), the provider and module registry protocols
 * (`/v1/providers/`, `/v1/modules/`, including `git::` sources) and
 * regcache's discovery document, with signed SHA256SUMS and zip hashes
 * verified. Configured by the top-level `terraform:` section (it runs with
 * defaults when the section is absent), mounted at the root because
 * Terraform's discovery lives at `/.well-known/terraform.json`.
 */
import { defineMode } from '../mode.js';
import { terraformCommands } from './cli/commands.js';
import { describeTerraform, legacyTerraformClass } from './listing.js';
import { terraformSettingsSchema } from './settings.js';
import { DEFAULT_REGISTRY_HOSTS } from './upstreams.js';

/** The registration of the Terraform mode. */
export const terraformMode = defineMode({
  name: 'terraform',
  summary: 'Terraform / OpenTofu providers and modules (network mirror and registry protocols)',
  schema: terraformSettingsSchema,
  section: true,
  legacyClass: legacyTerraformClass,
  // Registries (configured and the two public ones) and git hosts: the outbound policy's configured origins and the metrics host labels.
  commands: terraformCommands,
  upstreamUrls: (settings) => [...settings.upstreams.map((u) => u.url), ...DEFAULT_REGISTRY_HOSTS.map((h) => `https://${h}`), ...settings.git.hosts.map((h) => `https://${h}`)],
  // The runtime (registry clients, OpenPGP, zip hashing) loads only when an instance starts,
  // so reading the configuration (validate, the primary of several workers) stays light.
  async create(ctx, settings) {
    const [{ createTerraformMirrors }, { parseWarmBody, terraformPurgeTarget }, { clientSnippets }] = await Promise.all([import('./index.js'), import('./admin.js'), import('./snippets.js')]);
    const tf = await createTerraformMirrors(ctx, settings);
    return {
      mirrors: tf.mirrors,
      keyPrefixes: ['tf/'],
      upstreamHosts: tf.upstreamHosts,
      purgeTarget: terraformPurgeTarget,
      purgeAliases: [
        { path: ['v1', 'mirror'], as: ['providers'] },
        { path: ['v1', 'modules'], as: ['modules'] },
      ],
      describe: describeTerraform,
      status(baseUrl) {
        const s = clientSnippets(baseUrl, tf.upstreamHosts);
        return {
          title: 'Terraform / OpenTofu',
          url: `${baseUrl}${ctx.mount}/v1/mirror/`,
          upstreams: tf.upstreamHosts,
          snippets: [
            { id: 'mirror', label: 'Providers through the network mirror (~/.terraformrc, TF_CLI_CONFIG_FILE, or ~/.tofurc)', text: s.mirror },
            { id: 'hosts', label: 'Providers and modules through registry host overrides', note: 'Keeps upstream\'s signatures and writes lock files with hashes of every platform.', text: s.hosts },
            { id: 'credentials', label: 'Credentials', note: 'Only needed for private providers and modules; in registry mode the token belongs to the registry host itself.', text: s.credentials },
          ],
        };
      },
      warm(body, query) {
        const items = parseWarmBody(body, query);
        return { items: items.length, run: (progress) => tf.warm(items, progress) };
      },
    };
  },
});
