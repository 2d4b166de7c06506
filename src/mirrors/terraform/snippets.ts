/**
 * The client configuration the status page offers for copy and paste, as
 * plain text (the page escapes it). Built from the base URL clients reach
 * regcache under, so what an operator copies works as is.
 */
import { DEFAULT_REGISTRY_HOSTS } from './upstreams.js';

/** The snippets shown on the page. */
export interface ClientSnippets {
  /** `provider_installation { network_mirror … }`. */
  mirror: string;
  /** One `host` block per registry host regcache serves. */
  hosts: string;
  /** `credentials` block for regcache's own host. */
  credentials: string;
}

/** The host (with port) of a base URL; tolerant of a malformed Host header. */
export function hostOfBase(base: string): string {
  try {
    return new URL(base).host;
  } catch {
    return base.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? base;
  }
}

/** The public registries first, then every other configured upstream, each once. */
export function registryHosts(upstreamHosts: readonly string[]): string[] {
  return [...new Set<string>([...DEFAULT_REGISTRY_HOSTS, ...upstreamHosts])];
}

function hostBlock(base: string, host: string): string {
  return [
    `host "${host}" {`,
    '  services = {',
    `    "providers.v1" = "${base}/v1/providers/${host}/"`,
    `    "modules.v1"   = "${base}/v1/modules/${host}/"`,
    '  }',
    '}',
  ].join('\n');
}

/** Builds every snippet for clients reaching regcache at `baseUrl`. */
export function clientSnippets(baseUrl: string, upstreamHosts: readonly string[]): ClientSnippets {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    mirror: ['provider_installation {', '  network_mirror {', `    url = "${base}/v1/mirror/"`, '  }', '}'].join('\n'),
    hosts: registryHosts(upstreamHosts)
      .map((h) => hostBlock(base, h))
      .join('\n\n'),
    credentials: [`credentials "${hostOfBase(base)}" {`, '  token = "…"', '}'].join('\n'),
  };
}
