/**
 * Public shapes of the fake origin registry, kept apart from the server code
 * so tests and benchmarks can import them without pulling in the server.
 */
import type { generateSigningKey } from '../support/provider-fixtures.js';

/** The OpenPGP key the origin signs every SHA256SUMS with. */
export type OriginSigningKey = Awaited<ReturnType<typeof generateSigningKey>>;

/**
 * A misbehaviour injected into responses whose path matches, so tests can
 * drive regcache through every upstream failure it must survive.
 */
export type Fault =
  /** Answer with this status (and `Retry-After` seconds when given). */
  | { kind: 'status'; status: number; retryAfter?: number }
  /** Accept the request and answer nothing until the fault is cleared (then answer normally) or the origin stops. */
  | { kind: 'hang' }
  /** Send headers and the first `afterBytes` body bytes, then stall until cleared (then send the rest) or stopped. */
  | { kind: 'hangBody'; afterBytes: number }
  /** Announce the full Content-Length, send `afterBytes` bytes, then destroy the socket. */
  | { kind: 'truncate'; afterBytes: number }
  /** Zips only: serve a different (valid) zip than SHA256SUMS and `shasum` describe. */
  | { kind: 'wrongShasum' }
  /** Provider download answers only: a `shasum` that disagrees with the signed SHA256SUMS. */
  | { kind: 'inconsistentDownload' }
  /** `.sig` only: serve a signature over the right SHA256SUMS made with a key nobody published. */
  | { kind: 'badSignature' }
  /** Answer 200 application/json with a body that is not JSON. */
  | { kind: 'malformedJson' }
  /** Wait `ms` before answering normally. */
  | { kind: 'delay'; ms: number }
  /** Answer 302 to `location`. */
  | { kind: 'redirect'; location: string };

/** How paths are selected for faults and counts: substring, regex or predicate on the path (no query). */
export type PathMatcher = string | RegExp | ((path: string) => boolean);

/** Start-time knobs; all optional so the common case is `startOriginRegistry()`. */
export interface OriginOptions {
  /** Serve files from a second HTTPS listener and hand out absolute URLs to it, like a real CDN. */
  cdn?: boolean;
  /** Added before every response, for benchmarks that need a realistic round trip. */
  latencyMs?: number;
  /** Throttles file bodies (zips, SHA256SUMS, .sig, module archives). */
  bytesPerSecond?: number;
}

/** One platform a provider version is built for. */
export interface OriginPlatform {
  os: string;
  arch: string;
}

/** One provider version: a zip per platform, one SHA256SUMS and signature over them. */
export interface OriginProviderVersion {
  version: string;
  platforms: OriginPlatform[];
  /** Pads every zip of this version, for large-download tests. */
  extraBytes?: number;
}

/** A provider to publish; adding the same namespace/type again adds or replaces versions. */
export interface OriginProviderSpec {
  namespace: string;
  type: string;
  versions: OriginProviderVersion[];
  /** Default true; false publishes no signing keys (like many registry.opentofu.org providers). */
  signed?: boolean;
  /** Makes the provider private: metadata then needs `Authorization: Bearer <token>`; files do not. */
  token?: string;
  /** Files too (zips, SHA256SUMS, .sig) need this token, as Artifactory, Nexus and GitLab serve them. */
  filesToken?: string;
}

/** A module to publish; adding the same address again replaces it. */
export interface OriginModuleSpec {
  namespace: string;
  name: string;
  system: string;
  versions: string[];
  /** The `X-Terraform-Get` value per version; defaults to a relative URL of a generated `.tar.gz`. */
  location?: (version: string) => string;
  /** Makes the module private, as for providers. */
  token?: string;
}

/** One logged request, for asserting what regcache asked upstream and how often. */
export interface OriginRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  authorization?: string;
  /** `Date.now()` when the request arrived. */
  time: number;
  /** Which listener received it. */
  server: 'origin' | 'cdn';
}

/** Which listener `down`/`up` act on. */
export type OriginListenerName = 'origin' | 'cdn';

/** A running fake of registry.terraform.io (plus optional CDN) for regcache's tests. */
export interface OriginRegistry {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`, the registry hostname as Terraform would write it. */
  readonly host: string;
  /** `https://127.0.0.1:<port>` of the CDN listener when `cdn: true`. */
  readonly cdnUrl: string | undefined;
  /** PEM of the throwaway CA both listeners' certificates chain to. */
  readonly caPem: string;
  /** The CA written to a temp file, for NODE_EXTRA_CA_CERTS / SSL_CERT_FILE. */
  readonly caFile: string;
  /** The key every SHA256SUMS of a signed provider is signed with. */
  readonly signingKey: OriginSigningKey;
  /** Live request log, oldest first. */
  readonly requests: OriginRequest[];
  addProvider(spec: OriginProviderSpec): Promise<void>;
  addModule(spec: OriginModuleSpec): void;
  /** The exact zip bytes the origin serves for a platform (throws when unknown). */
  zipBytes(namespace: string, type: string, version: string, os: string, arch: string): Buffer;
  /** Number of logged requests whose path matches (and whose method equals `method`, when given). */
  count(path: PathMatcher, method?: string): number;
  /** Empties the request log. */
  reset(): void;
  /** Sets (or with `undefined` clears) the fault for `match`; the first matching fault applies. */
  setFault(match: string | RegExp, fault: Fault | undefined): void;
  clearFaults(): void;
  /** Closes a listener and drops its connections; its port refuses connections until `up`. */
  down(listener?: OriginListenerName): Promise<void>;
  /** Reopens a listener on the same port. */
  up(listener?: OriginListenerName): Promise<void>;
  /** Closes everything, including hung sockets, and removes the temp CA file. */
  stop(): Promise<void>;
}
