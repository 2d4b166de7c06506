/**
 * The registry hosts regcache may contact. This is the SSRF gate: a request
 * naming any other host is refused before any outbound traffic.
 */
import { RegcacheError } from '../../core/errors.js';
import { parseHost } from './names.js';

/** Registry hosts allowed without configuration. */
export const DEFAULT_REGISTRY_HOSTS = ['registry.terraform.io', 'registry.opentofu.org'] as const;

/** One allowed registry host. */
export interface RegistryUpstream {
  host: string;
  /** Base URL for service discovery (no trailing slash). */
  discoveryBase: string;
  /** Configured bearer token for this host only. */
  token: string | undefined;
  /** Whether providers without signing keys are served. */
  allowUnsigned: boolean;
}

/** The configured shape this module needs (a subset of Config). */
export interface UpstreamSettings {
  host: string;
  url?: string | undefined;
  token?: string | undefined;
  unsigned?: 'refuse' | 'allow' | undefined;
}

/** Resolves hosts named in requests to allowed upstreams. */
export interface RegistryUpstreams {
  resolve(rawHost: string): RegistryUpstream;
  readonly hosts: readonly string[];
}

/** Builds the allowlist: the two public registries plus configured hosts. */
export function createRegistryUpstreams(configured: readonly UpstreamSettings[], env: NodeJS.ProcessEnv = process.env): RegistryUpstreams {
  const map = new Map<string, RegistryUpstream>();
  const add = (s: UpstreamSettings): void => {
    const host = parseHost(s.host);
    map.set(host, {
      host,
      discoveryBase: (s.url ?? `https://${host}`).replace(/\/+$/, ''),
      token: s.token ?? tokenFromEnv(host, env),
      allowUnsigned: s.unsigned === 'allow',
    });
  };
  for (const h of DEFAULT_REGISTRY_HOSTS) add({ host: h });
  for (const s of configured) add(s);
  return {
    resolve(rawHost) {
      const host = parseHost(rawHost);
      const u = map.get(host);
      if (!u) throw new RegcacheError('ERR_UNKNOWN_HOST', `upstream host not allowed: ${host}`);
      return u;
    },
    hosts: [...map.keys()],
  };
}

/**
 * Terraform's TF_TOKEN_<host> convention: dots become '_', hyphens may be
 * written '__'; hosts with a port have no env form.
 */
export function tokenFromEnv(host: string, env: NodeJS.ProcessEnv): string | undefined {
  if (host.includes(':')) return undefined;
  const plain = `TF_TOKEN_${host.replace(/\./g, '_')}`;
  const dashed = `TF_TOKEN_${host.replace(/\./g, '_').replace(/-/g, '__')}`;
  return env[dashed] ?? env[plain] ?? undefined;
}
