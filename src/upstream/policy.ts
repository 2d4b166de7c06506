/**
 * The outbound policy: the one set of rules every hop of every upstream
 * request passes (the first URL, each redirect, and the address a
 * connection is actually made to). A URL must be https, or plain http when
 * `upstream.allowHttp` is set or its origin is one the operator configured
 * with http; it may carry no user-info; and its host may only be reached at
 * public addresses unless `upstream.allowPrivateAddresses` or
 * `upstream.allowAddresses` says otherwise. Names are checked where they
 * are resolved (the connector's lookup), so a name that answers with an
 * internal address, the first time or on a later lookup, is refused too.
 *
 * The policy also tells configured origins (the operator named them) from
 * tolerated ones (an upstream named them: download hosts, redirects), which
 * decides how much of an artifact is held back until it is verified.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { RegcacheError } from '../core/errors.js';
import { addressBytes, embeddedV4, inBlock, parseAddressBlock, specialPurpose, type AddressBlock } from './addresses.js';

/** Policy settings (from config.upstream, plus the configured upstream URLs). */
export interface OutboundPolicySettings {
  /** Plain http to any host (`upstream.allowHttp`). */
  allowHttp: boolean;
  /** Any address, loopback and private included (`upstream.allowPrivateAddresses`). */
  allowPrivateAddresses: boolean;
  /** Address blocks allowed although not public (`upstream.allowAddresses`), e.g. "10.1.2.0/24". */
  allowAddresses: readonly string[];
  /**
   * Upstream base URLs the operator configured: their origins count as
   * configured rather than tolerated, and one given as http:// may be
   * reached over plain http without `allowHttp`.
   */
  configuredUrls: readonly string[];
}

/** Decisions the upstream client asks for on every hop and connection. */
export interface OutboundPolicy {
  /** Throws ERR_UPSTREAM_REFUSED unless `url` may be requested (scheme, user-info, literal address). */
  checkUrl(url: URL): void;
  /** Why a connection to `address` is refused, or undefined when it is allowed. */
  addressProblem(address: string): string | undefined;
  /** dns.lookup yielding only allowed addresses; fails with ERR_UPSTREAM_REFUSED when none is. */
  readonly lookup: LookupFunction;
  /** Whether `url`'s origin is one the operator configured (not one an upstream named). */
  configured(url: string): boolean;
  /** Whether the operator configured an upstream on this host name (any address is then allowed for it). */
  configuredHost(hostname: string): boolean;
}

/** The error for anything the policy refuses; names the host and the rule, never a query or credential. */
export function refused(message: string): RegcacheError {
  return new RegcacheError('ERR_UPSTREAM_REFUSED', `outbound policy: ${message}`);
}

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** Builds the policy; throws on a malformed address block (the config schema validates them first). */
export function createOutboundPolicy(settings: OutboundPolicySettings): OutboundPolicy {
  const allowed: AddressBlock[] = settings.allowAddresses.map((text) => {
    const block = parseAddressBlock(text);
    if (!block) throw new Error(`upstream.allowAddresses: invalid address block ${JSON.stringify(text)}`);
    return block;
  });
  const configured = new Set(settings.configuredUrls.map(originOf).filter((o): o is string => o !== undefined));
  // The operator named these hosts: they may live at any address (an internal registry on 10.x).
  const configuredHosts = new Set([...configured].map((o) => new URL(o).hostname.replace(/^\[|\]$/g, '')));
  const httpOrigins = new Set([...configured].filter((o) => o.startsWith('http:')));

  function addressProblem(address: string): string | undefined {
    const bytes = addressBytes(address);
    if (!bytes) return `${address} is not an IP address`;
    if (settings.allowPrivateAddresses) return undefined;
    const v4 = embeddedV4(bytes);
    if (allowed.some((b) => inBlock(bytes, b) || (v4 !== undefined && inBlock(v4, b)))) return undefined;
    const label = specialPurpose(bytes);
    return label === undefined ? undefined : `${address} is a ${label} address (see upstream.allowAddresses)`;
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '');
        return;
      }
      const usable = configuredHosts.has(hostname) ? addresses : addresses.filter((a) => addressProblem(a.address) === undefined);
      const first = usable[0];
      if (first === undefined) {
        const why = addresses[0] === undefined ? 'no address' : addressProblem(addresses[0].address);
        callback(refused(`${hostname}: ${why}`), '');
        return;
      }
      if (options.all === true) callback(null, usable);
      else callback(null, first.address, first.family);
    });
  };

  return {
    checkUrl(url) {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refused(`unsupported URL scheme ${url.protocol}`);
      if (url.protocol === 'http:' && !settings.allowHttp && !httpOrigins.has(url.origin)) {
        throw refused(`plain http to ${url.host} (only https, unless upstream.allowHttp)`);
      }
      if (url.username !== '' || url.password !== '') throw refused(`URL with user-info for ${url.host}`);
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const problem = isIP(host) === 0 || configuredHosts.has(host) ? undefined : addressProblem(host);
      if (problem !== undefined) throw refused(problem);
    },
    addressProblem,
    lookup,
    configuredHost: (hostname) => configuredHosts.has(hostname.replace(/^\[|\]$/g, '')),
    configured: (url) => {
      const origin = originOf(url);
      return origin !== undefined && configured.has(origin);
    },
  };
}
