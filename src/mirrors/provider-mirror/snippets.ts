/**
 * The status page section of a `provider_mirror` instance: the network
 * mirror URL and the CLI configuration that installs providers through it.
 */
import type { StatusSection } from '../mode.js';

/** The section for clients reaching regcache at `baseUrl`. */
export function providerMirrorStatus(baseUrl: string, mount: string, originUrl: string, namePrefix: string): StatusSection {
  const url = `${baseUrl.replace(/\/+$/, '')}${mount}/`;
  const repo = [namePrefix, '<hostname>/<namespace>/<type>'].filter((p) => p !== '').join('/');
  return {
    title: `Providers from an OCI registry (${new URL(originUrl).host})`,
    url,
    upstreams: [originUrl],
    snippets: [
      {
        id: 'network-mirror',
        label: 'Providers through the network mirror (~/.terraformrc, TF_CLI_CONFIG_FILE, or ~/.tofurc)',
        note: `Reads ${new URL(originUrl).host}/${repo}, tags are versions.`,
        text: ['provider_installation {', '  network_mirror {', `    url = "${url}"`, '  }', '}'].join('\n'),
      },
      {
        id: 'credentials',
        label: 'Credentials (a bearer token of the registry, for private repositories)',
        text: [`credentials "${new URL(url).host}" {`, '  token = "…"', '}'].join('\n'),
      },
    ],
  };
}
