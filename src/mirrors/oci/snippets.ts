/**
 * The `oci` instance's section of the status page: where clients point
 * (the dedicated listener) and copy-paste configuration for Docker
 * (`daemon.json` registry-mirrors), containerd (`hosts.toml`) and skopeo.
 */
import type { StatusSection } from '../mode.js';

/** The status section; `url` is the listener's public URL (display_url, or this server's). */
export function ociStatus(url: string, upstreams: readonly string[]): StatusSection {
  const host = new URL(url).host;
  const main = upstreams[0] ?? 'https://registry-1.docker.io';
  const mainHost = new URL(main).host;
  const hubName = mainHost === 'registry-1.docker.io' ? 'docker.io' : mainHost;
  return {
    title: `Container registry (${upstreams.map((u) => new URL(u).host).join(', ')})`,
    url: `${url}/v2/`,
    upstreams,
    snippets: [
      {
        id: 'docker',
        label: '/etc/docker/daemon.json (Docker Hub mirror)',
        note: 'Docker uses registry-mirrors for Docker Hub images only; restart dockerd after editing',
        text: JSON.stringify({ 'registry-mirrors': [url] }, null, 2),
      },
      {
        id: 'containerd',
        label: `/etc/containerd/certs.d/${hubName}/hosts.toml`,
        note: 'containerd adds ?ns=<registry> to each request; regcache routes it to that configured upstream',
        text: `server = "${main}"\n\n[host."${url}"]\n  capabilities = ["pull", "resolve"]`,
      },
      {
        id: 'skopeo',
        label: 'skopeo',
        text: `skopeo inspect docker://${host}/library/alpine:latest\nskopeo copy docker://${host}/library/alpine:latest oci:alpine:latest`,
      },
    ],
  };
}
