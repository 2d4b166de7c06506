/**
 * The `oci` instance's section of the status page: where clients point
 * (the dedicated listener) and copy-paste configuration for Docker
 * (`daemon.json` registry-mirrors), containerd (`hosts.toml`) and skopeo.
 */
import type { StatusSection } from '../mode.js';

/** The note shown when the listener's public URL is not configured. */
const GUESSED = 'display_url is not set: these lines show the main listener\'s URL; use this instance\'s bind address (or set display_url)';

/** The status section; `url` is the listener's public URL (display_url), or this server's when `guessed`. */
export function ociStatus(url: string, upstreams: readonly string[], guessed: boolean): StatusSection {
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
        note: guessed ? GUESSED : 'Docker uses registry-mirrors for Docker Hub images only; restart dockerd after editing',
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
