/**
 * The one description of regcache's configuration: key names, types,
 * defaults and normalisation. Files, environment and flags are all merged
 * into a raw object that is validated here exactly once.
 */
import { availableParallelism } from 'node:os';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseSize } from './size.js';

/** Where regcache listens when nothing says otherwise; loopback so a fresh install is not exposed. */
export const DEFAULT_LISTEN = '127.0.0.1:8443';

/** Log levels understood by the logger, in pino's vocabulary. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const HOST_LABELS = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const PORT = /^\d{1,5}$/;

function validPort(text: string, min: number): boolean {
  return PORT.test(text) && Number(text) >= min && Number(text) <= 65535;
}

/**
 * Splits a validated listen address ("127.0.0.1:8443", "[::1]:8443") into
 * what net.Server#listen wants; brackets are removed from IPv6 hosts.
 * Returns undefined when the text is not a host:port pair.
 */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const rawHost = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!validPort(port, 0)) return undefined;
  if (rawHost.startsWith('[') && rawHost.endsWith(']')) {
    const host = rawHost.slice(1, -1);
    return isIPv6(host) ? { host, port: Number(port) } : undefined;
  }
  return HOST_LABELS.test(rawHost.toLowerCase()) ? { host: rawHost, port: Number(port) } : undefined;
}

/** Explains why an upstream host is unacceptable, or returns undefined when it is fine. */
function upstreamHostProblem(host: string): string | undefined {
  if (host.length === 0) return 'must not be empty';
  if (/\s/.test(host)) return 'must not contain whitespace';
  if (host.includes('://')) return 'must be a bare hostname without a scheme (put URLs in "url")';
  if (host.includes('@')) return 'must not contain user-info';
  if (host.includes('/')) return 'must be a bare hostname without a path';
  if (/[^\x20-\x7e]/.test(host)) return 'must be ASCII (use the punycode xn-- form)';
  const colon = host.indexOf(':');
  const name = colon === -1 ? host : host.slice(0, colon);
  if (colon !== -1 && !validPort(host.slice(colon + 1), 1)) return 'has an invalid port';
  if (!HOST_LABELS.test(name) || name.length > 253) return 'is not a valid hostname';
  return undefined;
}

/** Validates and normalises an http(s) base URL: no query, fragment or user-info; one trailing slash stripped. */
function baseUrl(label: string) {
  return z.string().transform((text, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    let problem: string | undefined;
    if (url === undefined) problem = `invalid ${label} ${JSON.stringify(text)}`;
    else if (url.protocol !== 'https:' && url.protocol !== 'http:') problem = `${label} must use http or https`;
    else if (text.includes('?') || text.includes('#')) problem = `${label} must not have a query or fragment`;
    else if (url.username !== '' || url.password !== '') problem = `${label} must not contain user-info`;
    if (problem !== undefined || url === undefined) {
      ctx.addIssue({ code: 'custom', message: problem ?? 'invalid URL', input: text });
      return z.NEVER;
    }
    return url.href.endsWith('/') ? url.href.slice(0, -1) : url.href;
  });
}

/** Runs a throwing parser and turns its failure into undefined, for use inside transforms. */
function attempt<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** A duration string ("10m") to milliseconds; the number 0 is accepted because YAML reads `0` as a number. */
const duration = z
  .union([z.string(), z.number()], { error: 'expected a duration like "10m"' })
  .transform((value, ctx) => {
    const ms = typeof value === 'string' ? attempt(() => parseDuration(value)) : value === 0 ? 0 : undefined;
    if (ms !== undefined) return ms;
    const hint = typeof value === 'number' ? ` (add a unit, e.g. "${value}s")` : '';
    ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(value)}${hint}`, input: value });
    return z.NEVER;
  });

/** A byte size ("8MiB") or plain non-negative integer number of bytes. */
const size = z
  .union([z.string(), z.number()], { error: 'expected a size like "8MiB"' })
  .transform((value, ctx) => {
    const bytes =
      typeof value === 'string'
        ? attempt(() => parseSize(value))
        : Number.isSafeInteger(value) && value >= 0
          ? value
          : undefined;
    if (bytes !== undefined) return bytes;
    ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  });

const listen = z.string().refine((text) => parseListenAddress(text) !== undefined, {
  error: (issue) => `invalid listen address ${JSON.stringify(issue.input)} (expected host:port, IPv6 as [::1]:8443)`,
});

const tls = z.union(
  [
    z.literal(false),
    z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }),
  ],
  { error: 'expected {cert, key} file paths, or false for plain HTTP' },
);

/** Upper bound of server.workers. */
const MAX_WORKERS = 64;

const serverSchema = z.strictObject({
  listen: listen.prefault(DEFAULT_LISTEN),
  publicUrl: baseUrl('URL').optional(),
  tls: tls.optional(),
  shutdownTimeout: duration.prefault('30s'),
  trustProxy: z.boolean().prefault(false),
  urlSigningKey: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  /** Worker processes sharing the listener ("auto" = one per core); 1 = no primary process. */
  workers: z
    .union([
      z.literal('auto'),
      z.number().int().min(1).max(MAX_WORKERS),
      z.string().regex(/^\d+$/, { error: 'expected a number of processes or "auto"' }).transform(Number).pipe(z.number().int().min(1).max(MAX_WORKERS)),
    ])
    .prefault(1)
    .transform((w) => (w === 'auto' ? Math.min(availableParallelism(), MAX_WORKERS) : w)),
});

const s3Schema = z.strictObject({
  bucket: z.string().min(3),
  prefix: z.string().regex(/^[A-Za-z0-9._/-]*$/).optional(),
  region: z.string().min(1).prefault('us-east-1'),
  endpoint: baseUrl('endpoint').optional(),
  forcePathStyle: z.boolean().prefault(false),
  redirect: z.boolean().prefault(false),
  credentials: z.strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().min(1).optional() }).optional(),
});

const storageSchema = z.strictObject({
  type: z.enum(['fs', 's3']).prefault('fs'),
  s3: s3Schema.optional(),
  maxSize: size.optional(),
  expireAfter: duration.optional(),
  cleanupInterval: duration.prefault('10m'),
  /** fs store: descriptors of recently served objects kept open (0 = off). */
  openFiles: z.number().int().min(0).max(65536).prefault(256),
  path: z
    .string()
    .min(1)
    .transform((dir) => path.resolve(process.cwd(), dir))
    .prefault('./data'),
});

const upstreamHostSchema = z.strictObject({
  host: z.string().transform((host, ctx) => {
    const lower = host.toLowerCase();
    const problem = upstreamHostProblem(lower);
    if (problem === undefined) return lower;
    ctx.addIssue({ code: 'custom', message: `host ${JSON.stringify(host)} ${problem}`, input: host });
    return z.NEVER;
  }),
  url: baseUrl('url').optional(),
  token: z.string().min(1).optional(),
  unsigned: z.enum(['refuse', 'allow']).prefault('refuse'),
});

const upstreamListSchema = z
  .array(upstreamHostSchema.transform((entry) => ({ ...entry, url: entry.url ?? `https://${entry.host}` })))
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((entry, index) => {
      const first = seen.get(entry.host);
      if (first === undefined) seen.set(entry.host, index);
      else {
        const message = `duplicate upstream host "${entry.host}" (also terraform.upstreams[${first}])`;
        ctx.addIssue({ code: 'custom', message, path: [index, 'host'], input: entry.host });
      }
    });
  });

const policyEntry = z.union([
  z.string().min(1),
  z.strictObject({ source: z.string().min(1), versions: z.string().min(1).optional() }),
]);

const terraformSchema = z.strictObject({
  upstreams: upstreamListSchema.prefault([]),
  metadata: z
    .strictObject({
      ttl: duration.prefault('10m'),
      staleIfError: duration.prefault('7d'),
    })
    .prefault({}),
  git: z
    .strictObject({
      hosts: z
        .array(
          z.string().transform((host, ctx) => {
            const lower = host.toLowerCase();
            const problem = upstreamHostProblem(lower);
            if (problem === undefined) return lower;
            ctx.addIssue({ code: 'custom', message: `host ${JSON.stringify(host)} ${problem}`, input: host });
            return z.NEVER;
          }),
        )
        .prefault(['github.com']),
      allowHttp: z.boolean().prefault(false),
      timeout: duration.prefault('120s'),
    })
    .prefault({}),
  allow: z.array(policyEntry).prefault([]),
  deny: z.array(policyEntry).prefault([]),
  private: z
    .strictObject({
      authCacheTtl: duration.prefault('60s'),
      signedUrlTtl: duration.prefault('15m'),
    })
    .prefault({}),
});

const upstreamSchema = z.strictObject({
  connectTimeout: duration.prefault('10s'),
  headersTimeout: duration.prefault('30s'),
  bodyTimeout: duration.prefault('60s'),
  maxMetadataBytes: size.prefault('8MiB'),
  parallelism: z.number().int().min(1).max(64).prefault(8),
});

const metricsSchema = z.strictObject({
  path: z.union([z.literal(false), z.string().regex(/^\/[A-Za-z0-9/_-]*$/)]).prefault('/metrics'),
  listen: listen.optional(),
  token: z.string().min(1).optional(),
});

const coordinationSchema = z.strictObject({
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, { error: 'expected redis:// or rediss:// URL' }),
      lease: duration.prefault('30s'),
    })
    .optional(),
});

const adminSchema = z.strictObject({
  token: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
});

const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).prefault('info'),
});

/** The whole configuration schema; every object is strict so a misspelt key is an error, not a silent default. */
export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  storage: storageSchema
    .superRefine((st, ctx) => {
      if (st.type === 's3' && st.s3 === undefined) ctx.addIssue({ code: 'custom', message: 'storage.type is s3 but storage.s3 (bucket, region, …) is missing', path: ['s3'] });
    })
    .prefault({}),
  terraform: terraformSchema.prefault({}),
  upstream: upstreamSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  coordination: coordinationSchema.prefault({}),
  admin: adminSchema.prefault({}),
  log: logSchema.prefault({}),
});

/** Makes a parsed value read-only all the way down, matching the runtime deep freeze. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Validated configuration: defaults applied, durations in ms, sizes in bytes, paths absolute. */
export type Config = DeepReadonly<z.output<typeof configSchema>>;

/** One configured upstream registry host, as the rest of the code sees it. */
export type UpstreamHostConfig = Config['terraform']['upstreams'][number];

/** What a config file may contain before defaults and normalisation. */
export type ConfigInput = z.input<typeof configSchema>;
