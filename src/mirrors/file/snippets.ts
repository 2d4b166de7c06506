/**
 * The `file` instance's section of the status page: where clients point,
 * and copy-paste `curl` / `wget` lines for this server's URL, shown with
 * the upstream URL each one replaces.
 */
import type { StatusSection } from '../mode.js';

/** The file path the snippets show. */
const EXAMPLE = 'path/to/file.tar.gz';

/** The status section for clients reaching regcache at `baseUrl`; `mount` is the instance's path. */
export function fileStatus(baseUrl: string, mount: string, upstreams: readonly string[]): StatusSection {
  const url = `${baseUrl}${mount}`;
  const upstream = upstreams[0] ?? 'https://upstream.example';
  return {
    title: `Files (${upstreams.map((u) => new URL(u).host).join(', ')})`,
    url: `${url}/`,
    upstreams,
    snippets: [
      {
        id: 'curl',
        label: 'curl',
        note: `${upstream}/${EXAMPLE} is fetched as ${url}/${EXAMPLE}`,
        text: `curl -fL -O ${url}/${EXAMPLE}`,
      },
      { id: 'wget', label: 'wget', text: `wget ${url}/${EXAMPLE}` },
      {
        id: 'rewrite',
        label: 'Rewrite an upstream URL in a script',
        text: `url="${upstream}/${EXAMPLE}"\ncurl -fL -O "${url}\${url#${upstream}}"`,
      },
    ],
  };
}
