/**
 * The `cargo` instance's section of the status page: where cargo points
 * and the `.cargo/config.toml` that replaces crates.io with this server.
 */
import type { StatusSection } from '../mode.js';

/** The status section for clients reaching regcache at `baseUrl`; `mount` is the instance's path. */
export function cargoStatus(baseUrl: string, mount: string, upstream: string, authRequired: boolean): StatusSection {
  const url = `${baseUrl}${mount}/`;
  const config = [
    '[source.crates-io]',
    'replace-with = "regcache"',
    '',
    '[source.regcache]',
    `registry = "sparse+${url}"`,
  ];
  if (authRequired) config.push('', '[registries.regcache]', `index = "sparse+${url}"`, 'credential-provider = "cargo:token"');
  return {
    title: `Cargo (${new URL(upstream).host})`,
    url,
    upstreams: [upstream],
    snippets: [
      { id: 'config', label: '.cargo/config.toml', note: `crates.io (${upstream}) is replaced by this sparse index`, text: config.join('\n') },
      { id: 'env', label: 'One command, no config file', text: `cargo --config 'source.crates-io.replace-with="regcache"' --config 'source.regcache.registry="sparse+${url}"' fetch` },
    ],
  };
}
