/**
 * A client of one upstream OCI Distribution registry, shared by every mode
 * that reads from a registry (the `oci` pull-through cache, providers from
 * OCI registries). It builds the `/v2/…` URLs from names the caller has
 * validated (names.ts), runs the token flow (token-auth.ts) on a 401 and
 * retries once, and opens answers through the instance's UpstreamClient,
 * which applies the outbound policy to every hop and follows a blob's
 * redirect to a CDN itself, dropping the Authorization there.
 *
 * Invariants: only this registry's base URL (plus the realm and redirect
 * targets it names) is contacted; only the configured credentials are sent;
 * every request is one of pull scope (GET / HEAD).
 */
import { RegcacheError } from '../../core/errors.js';
import type { UpstreamClient, UpstreamResponse } from '../../upstream/client.js';
import { parseChallenge } from './challenge.js';
import { isDigest, isRepository, isTag } from './names.js';
import { createTokenAuth, type RegistryCredentials, type TokenAuth } from './token-auth.js';
import { readCapped } from '../../core/read-capped.js';

/** What a registry request asks for. */
export interface RegistryRequest {
  method?: 'GET' | 'HEAD';
  /** Accept header (manifests: the media types the client takes). */
  accept?: string;
  signal?: AbortSignal;
}

/** The upstream registry, addressed by validated repository names, references and digests. */
export interface RegistryClient {
  /** The registry's base URL, without a trailing slash. */
  readonly base: string;
  /** `/v2/<repo>/manifests/<tag or digest>`. */
  manifest(repo: string, reference: string, req?: RegistryRequest): Promise<UpstreamResponse>;
  /** `/v2/<repo>/blobs/<digest>` (redirects followed). */
  blob(repo: string, digest: string, req?: RegistryRequest): Promise<UpstreamResponse>;
  /** `/v2/<repo>/tags/list` with an optional validated query (`n`, `last`). */
  tags(repo: string, query: URLSearchParams, req?: RegistryRequest): Promise<UpstreamResponse>;
  /** `/v2/<repo>/referrers/<digest>` with an optional `artifactType` filter. */
  referrers(repo: string, digest: string, query: URLSearchParams, req?: RegistryRequest): Promise<UpstreamResponse>;
  /** Reads a whole small answer (a manifest, a list) of at most `maxBytes`. */
  read(res: UpstreamResponse, maxBytes: number): Promise<Buffer>;
}

/** Options of one registry client. */
export interface RegistryClientOptions {
  client: UpstreamClient;
  /** The registry's base URL ("https://registry-1.docker.io"). */
  base: string;
  credentials: RegistryCredentials;
}

/** The pull scope of a repository, as registries name it in challenges. */
export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}

/** A checked repository path: callers validate, this is the last line of defence before a URL is built. */
function repoPath(repo: string): string {
  if (!isRepository(repo)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid repository name');
  return repo;
}

function refPath(reference: string): string {
  if (!isDigest(reference) && !isTag(reference)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid manifest reference');
  return reference;
}

function digestPath(digest: string): string {
  if (!isDigest(digest)) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid digest');
  return digest;
}

/** Creates the client of one registry. */
export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const base = opts.base.replace(/\/+$/, '');
  const auth: TokenAuth = createTokenAuth({ client: opts.client, credentials: opts.credentials, registryOrigin: new URL(base).origin });

  async function open(path: string, scope: string, req: RegistryRequest): Promise<UpstreamResponse> {
    const url = `${base}${path}`;
    const send = (authorization: string | undefined): Promise<UpstreamResponse> =>
      opts.client.open(url, {
        method: req.method ?? 'GET',
        ...(req.accept !== undefined ? { accept: req.accept } : {}),
        ...(authorization !== undefined ? { authorization } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
    const first = auth.cached(scope);
    try {
      return await send(first);
    } catch (err) {
      if (!(err instanceof RegcacheError) || err.upstreamStatus !== 401 || err.challenge === undefined) throw err;
      const challenge = parseChallenge(err.challenge);
      if (!challenge) throw err;
      if (first !== undefined) auth.forget(scope);
      const answer = await auth.answer(challenge, scope, req.signal);
      if (answer === undefined || answer === first) throw err;
      return send(answer);
    }
  }

  const withQuery = (path: string, query: URLSearchParams): string => (query.size > 0 ? `${path}?${query.toString()}` : path);

  return {
    base,
    manifest: async (repo, reference, req = {}) => open(`/v2/${repoPath(repo)}/manifests/${refPath(reference)}`, pullScope(repo), req),
    blob: async (repo, digest, req = {}) => open(`/v2/${repoPath(repo)}/blobs/${digestPath(digest)}`, pullScope(repo), req),
    tags: async (repo, query, req = {}) => open(withQuery(`/v2/${repoPath(repo)}/tags/list`, query), pullScope(repo), req),
    referrers: async (repo, digest, query, req = {}) => open(withQuery(`/v2/${repoPath(repo)}/referrers/${digestPath(digest)}`, query), pullScope(repo), req),
    read: (res, maxBytes) =>
      readCapped(res.body, maxBytes, () => new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `registry answer too large (> ${maxBytes} bytes)`), res.size),
  };
}
