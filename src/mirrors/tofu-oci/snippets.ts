/**
 * The `tofu_oci` instance's section of the status page: the OpenTofu
 * (≥ 1.10) `oci_mirror` block for its listener, an `oci://` module
 * source, and skopeo lines.
 */
import type { StatusSection } from '../mode.js';

const GUESSED = 'display_url is not set: these lines show the main listener\'s URL; use this instance\'s bind address (or set display_url)';

/** The `provider_installation` block for `host` (host[:port]). */
export function ociMirrorBlock(host: string, prefix: string, registries: readonly string[]): string {
  const repo = [host, ...(prefix === '' ? [] : [prefix]), '${hostname}/${namespace}/${type}'].join('/');
  const include = registries.map((r) => `"${r}/*/*"`).join(', ');
  return `provider_installation {\n  oci_mirror {\n    repository_template = "${repo}"\n    include             = [${include}]\n  }\n}`;
}

/** The status section; `url` is the listener's public URL (display_url), or this server's when `guessed`. */
export function tofuOciStatus(url: string, prefix: string, modulePrefix: string, registries: readonly string[], guessed: boolean): StatusSection {
  const host = new URL(url).host;
  const mod = [host, ...(modulePrefix === '' ? [] : [modulePrefix]), `${registries[0] ?? 'registry.opentofu.org'}/NAMESPACE/NAME/SYSTEM`].join('/');
  const repo = [host, ...(prefix === '' ? [] : [prefix]), 'registry.opentofu.org/hashicorp/random'].join('/');
  return {
    title: 'OpenTofu providers over OCI (oci_mirror)',
    url: `${url}/v2/`,
    upstreams: registries,
    snippets: [
      { id: 'oci-mirror', label: '~/.tofurc (OpenTofu ≥ 1.10)', ...(guessed ? { note: GUESSED } : {}), text: ociMirrorBlock(host, prefix, registries) },
      { id: 'oci-module', label: 'A module through regcache (oci:// source)', text: `module "example" {\n  source = "oci://${mod}?tag=1.0.0"\n}` },
      { id: 'skopeo', label: 'skopeo', text: `skopeo list-tags docker://${repo}\nskopeo inspect --raw docker://${repo}:3.6.0` },
    ],
  };
}
