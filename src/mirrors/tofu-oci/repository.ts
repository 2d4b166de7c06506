/**
 * A request's repository read as a provider address: the configured
 * prefix components, then `<hostname>/<namespace>/<type>`, each checked
 * with the terraform mode's grammar (names.ts) and the host with its
 * allow-list (upstreams.ts). Anything else is refused (400 / 404 / 403)
 * before any upstream request.
 */
import { RegcacheError } from '../../core/errors.js';
import { parseHost, parseName } from '../terraform/names.js';
import type { Policy } from '../terraform/policy.js';
import type { RegistryUpstream, RegistryUpstreams } from '../terraform/upstreams.js';

/** A provider named by a repository. */
export interface ProviderRepo {
  up: RegistryUpstream;
  namespace: string;
  type: string;
  /** "host/namespace/type", the address policies match. */
  address: string;
}

/** Reads `repo` ("providers/registry.opentofu.org/hashicorp/random"); throws ERR_NOT_FOUND / ERR_BAD_REQUEST / ERR_UNKNOWN_HOST. */
export function providerRepo(repo: string, prefix: string, upstreams: RegistryUpstreams, policy: Policy): ProviderRepo {
  const head = prefix === '' ? [] : prefix.split('/');
  const parts = repo.split('/');
  if (parts.length !== head.length + 3 || head.some((h, i) => parts[i] !== h)) {
    throw new RegcacheError('ERR_NOT_FOUND', `repositories here are ${[...head, '<hostname>', '<namespace>', '<type>'].join('/')}`);
  }
  const [hostRaw, nsRaw, typeRaw] = parts.slice(head.length);
  const host = parseHost(hostRaw ?? '');
  const namespace = parseName('namespace', nsRaw ?? '');
  const type = parseName('type', typeRaw ?? '');
  const up = upstreams.resolve(host);
  const address = `${up.host}/${namespace}/${type}`;
  policy.check(address);
  return { up, namespace, type, address };
}
