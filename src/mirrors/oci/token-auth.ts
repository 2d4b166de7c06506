/**
 * The registry token flow (Docker / OCI distribution "token authentication"):
 * a 401 with `WWW-Authenticate: Bearer realm,service,scope` is answered by
 * asking the realm for a token (anonymously, or with the configured basic
 * credentials), which is then cached per scope until it expires and sent
 * with every later request of that scope. A `Basic` challenge is answered
 * with the configured basic credentials; a configured static bearer token
 * is sent up front.
 *
 * Invariants: only the configured credentials are ever sent (never a
 * client's); the basic credentials go only to the registry's own origin or
 * to a realm it names over https (or over http when the registry itself
 * is http); one token request runs per scope at a time; token texts are
 * never logged.
 */
import { RegcacheError } from '../../core/errors.js';
import type { UpstreamClient } from '../../upstream/client.js';
import type { Challenge } from './challenge.js';

/** Credentials for one upstream registry, as configured (`auth:`). */
export type RegistryCredentials =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string };

/** Answers challenges and remembers tokens per scope. */
export interface TokenAuth {
  /** The Authorization to send up front for `scope` (a cached token, basic once accepted, a static bearer token). */
  cached(scope: string): string | undefined;
  /** Obtains an Authorization answering `challenge` for `scope`; undefined when there is nothing to answer with. */
  answer(challenge: Challenge, scope: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Drops the token cached for `scope` (the registry refused it). */
  forget(scope: string): void;
}

/** What the token flow needs. */
export interface TokenAuthOptions {
  client: UpstreamClient;
  credentials: RegistryCredentials;
  /** The registry's origin ("https://registry-1.docker.io"). */
  registryOrigin: string;
  /** Most scopes remembered (oldest dropped first). */
  maxEntries?: number;
  now?: () => number;
}

/** The spec's default lifetime of a token without `expires_in`. */
const DEFAULT_TTL_S = 60;
/** A token is renewed this long before it expires (when it lives longer than twice this). */
const MARGIN_MS = 10_000;
const MAX_TOKEN_RESPONSE = 1024 * 1024;
const MAX_TOKEN_CHARS = 64 * 1024;

interface Held {
  authorization: string;
  expiresAt: number;
}

/** Reads `token` (or `access_token`) and `expires_in` of a realm's answer. */
function readTokenAnswer(json: unknown): { token: string; ttlS: number } {
  if (typeof json !== 'object' || json === null) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'token answer is not a JSON object');
  const o = json as Record<string, unknown>;
  const token = typeof o['token'] === 'string' && o['token'] !== '' ? o['token'] : o['access_token'];
  if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'token answer holds no usable token');
  }
  const e = o['expires_in'];
  const ttlS = typeof e === 'number' && Number.isFinite(e) && e > 0 ? Math.min(e, 24 * 3600) : DEFAULT_TTL_S;
  return { token, ttlS };
}

/** Creates the flow for one upstream registry. */
export function createTokenAuth(opts: TokenAuthOptions): TokenAuth {
  const now = opts.now ?? Date.now;
  const max = opts.maxEntries ?? 1024;
  const tokens = new Map<string, Held>();
  const running = new Map<string, Promise<string>>();
  const creds = opts.credentials;
  const basic = creds.type === 'basic' ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}` : undefined;
  const registry = new URL(opts.registryOrigin);
  let basicAccepted = false;

  /** Whether the basic credentials may go to `realm`. */
  const mayCarryBasic = (realm: URL): boolean => realm.origin === registry.origin || realm.protocol === 'https:' || registry.protocol === 'http:';

  async function fetchToken(realmText: string, challenge: Challenge, scope: string, signal?: AbortSignal): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'token realm is not a URL');
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'token realm is not http(s)');
    if (realm.username !== '' || realm.password !== '') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'token realm carries user-info');
    const service = challenge.params['service'];
    if (service !== undefined && service !== '') realm.searchParams.set('service', service);
    const wanted = challenge.params['scope'] ?? scope;
    if (wanted !== '') realm.searchParams.set('scope', wanted);
    const authorization = basic !== undefined && mayCarryBasic(realm) ? basic : undefined;
    const { json } = await opts.client.json(realm.toString(), MAX_TOKEN_RESPONSE, {
      ...(authorization !== undefined ? { authorization } : {}),
      ...(signal ? { signal } : {}),
    });
    const { token, ttlS } = readTokenAnswer(json);
    const ttlMs = ttlS * 1000;
    const held = { authorization: `Bearer ${token}`, expiresAt: now() + (ttlMs > 2 * MARGIN_MS ? ttlMs - MARGIN_MS : ttlMs) };
    if (tokens.size >= max) {
      const oldest = tokens.keys().next();
      if (oldest.done !== true) tokens.delete(oldest.value);
    }
    tokens.set(scope, held);
    return held.authorization;
  }

  return {
    cached(scope) {
      const held = tokens.get(scope);
      if (held !== undefined && now() < held.expiresAt) return held.authorization;
      if (held !== undefined) tokens.delete(scope);
      if (creds.type === 'bearer') return `Bearer ${creds.token}`;
      return basicAccepted ? basic : undefined;
    },
    async answer(challenge, scope, signal) {
      if (challenge.scheme === 'basic') {
        basicAccepted = basic !== undefined;
        return basic;
      }
      if (challenge.scheme !== 'bearer') return undefined;
      const realm = challenge.params['realm'] ?? '';
      const key = `${realm}\u0000${scope}`;
      const inFlight = running.get(key);
      if (inFlight) return inFlight;
      const p = fetchToken(realm, challenge, scope, signal).finally(() => running.delete(key));
      running.set(key, p);
      return p;
    },
    forget(scope) {
      tokens.delete(scope);
    },
  };
}
