/**
 * The registries one `oci` listener serves: the configured `upstream`, and
 * the further `registries` chosen by the containerd `?ns=<registry>` query.
 * A request without `ns`, or naming the main upstream's host (docker.io for
 * Docker Hub), goes to the main upstream; an `ns` that is not configured is
 * refused (404, ERR_UNKNOWN_HOST) before any request: regcache never
 * contacts a registry a client names.
 */
import { RegcacheError } from '../../core/errors.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { createRegistryClient, type RegistryClient } from './registry-client.js';
import type { OciAuth, OciSettings } from './settings.js';
import type { RegistryCredentials } from './token-auth.js';

/** One upstream registry of the instance. */
export interface OciUpstream {
  /** Its key segment: "_" for the main upstream, else the `ns` name. */
  readonly ns: string;
  /** The base URL as configured. */
  readonly url: string;
  readonly registry: RegistryClient;
}

/** The instance's registries. */
export interface OciUpstreams {
  readonly main: OciUpstream;
  readonly all: readonly OciUpstream[];
  /** The registry a request's query selects; throws ERR_UNKNOWN_HOST / ERR_BAD_REQUEST. */
  select(query: URLSearchParams): OciUpstream;
}

/** The key segment of the main upstream. */
export const MAIN_NS = '_';

/** Docker Hub's registry host and the name clients use for it. */
const DOCKER_HUB = 'registry-1.docker.io';

function credentialsOf(auth: OciAuth | undefined): RegistryCredentials {
  if (auth?.type === 'basic' && auth.username !== undefined && auth.password !== undefined) return { type: 'basic', username: auth.username, password: auth.password };
  if (auth?.type === 'bearer' && auth.token !== undefined) return { type: 'bearer', token: auth.token };
  return { type: 'none' };
}

/** Builds the registries of one instance over its outbound client. */
export function createOciUpstreams(client: UpstreamClient, settings: Pick<OciSettings, 'upstream' | 'auth' | 'registries'>): OciUpstreams {
  const main: OciUpstream = { ns: MAIN_NS, url: settings.upstream, registry: createRegistryClient({ client, base: settings.upstream, credentials: credentialsOf(settings.auth) }) };
  const mainHost = new URL(settings.upstream).host;
  const mainNames = new Set([mainHost, ...(mainHost === DOCKER_HUB ? ['docker.io', 'index.docker.io'] : [])]);
  const extra = new Map<string, OciUpstream>();
  for (const [ns, r] of Object.entries(settings.registries)) {
    extra.set(ns.toLowerCase(), { ns: ns.toLowerCase(), url: r.upstream, registry: createRegistryClient({ client, base: r.upstream, credentials: credentialsOf(r.auth) }) });
  }
  return {
    main,
    all: [main, ...extra.values()],
    select(query) {
      const names = query.getAll('ns');
      if (names.length === 0) return main;
      if (names.length > 1) throw new RegcacheError('ERR_BAD_REQUEST', 'ns given more than once');
      const ns = (names[0] ?? '').toLowerCase();
      if (mainNames.has(ns)) return main;
      const found = extra.get(ns);
      if (!found) throw new RegcacheError('ERR_UNKNOWN_HOST', 'this registry is not configured on this listener');
      return found;
    },
  };
}
