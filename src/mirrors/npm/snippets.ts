/**
 * The `npm` instance's section of the status page: the registry URL and
 * copy-paste `.npmrc` lines (the registry, a scope's registry, a token for
 * private packages) and the matching command-line flags.
 */
import type { StatusSection } from '../mode.js';

/** The status section for clients reaching regcache at `baseUrl`. */
export function npmStatus(baseUrl: string, mount: string, upstream: string): StatusSection {
  const url = `${baseUrl}${mount}/`;
  const auth = url.replace(/^https?:/, '');
  return {
    title: `npm (${new URL(upstream).host})`,
    url,
    upstreams: [upstream],
    snippets: [
      { id: 'npmrc', label: '.npmrc', text: `registry=${url}` },
      { id: 'npmrc-scope', label: '.npmrc (one scope only)', text: `@myscope:registry=${url}` },
      {
        id: 'npmrc-token',
        label: '.npmrc (private packages)',
        note: 'the token is the one the upstream registry accepts; regcache sends it to that registry only',
        text: `${auth}:_authToken=\${NPM_TOKEN}`,
      },
      { id: 'cli', label: 'npm', text: `npm install --registry ${url}\nnpm ci --registry ${url}` },
    ],
  };
}
