/**
 * The one description of regcache's configuration: key names, types,
 * defaults and normalisation. Files, environment and flags are all merged
 * into a raw object that is validated here exactly once.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { MODES } from '../mirrors/modes.js';
import { instancesSchema, toInstance, type InstanceConfig, type ModeSchemaInfo } from './instances.js';
import { baseUrl, duration, listen, parseListenAddress, size, tls } from './types.js';

export { parseListenAddress };

/** Where regcache listens when nothing says otherwise; loopback so a fresh install is not exposed. */
export const DEFAULT_LISTEN = '127.0.0.1:8443';

/** Log levels understood by the logger, in pino's vocabulary. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
  /** What periodic retention does: remove, only report what it would remove, or nothing. */
  retentionMode: z.enum(['remove', 'report', 'off']).prefault('remove'),
  /** fs store: descriptors of recently served objects kept open (0 = off). */
  openFiles: z.number().int().min(0).max(65536).prefault(256),
  path: z
    .string()
    .min(1)
    .transform((dir) => path.resolve(process.cwd(), dir))
    .prefault('./data'),
});

const upstreamSchema = z.strictObject({
  connectTimeout: duration.prefault('10s'),
  headersTimeout: duration.prefault('30s'),
  bodyTimeout: duration.prefault('60s'),
  maxMetadataBytes: size.prefault('8MiB'),
  parallelism: z.number().int().min(1).max(64).prefault(8),
  /** Total time one artifact download may take, however steadily it trickles (bodyTimeout only measures silence). */
  fillDeadline: duration.prefault('1h'),
  /** Total time one metadata read may take; bodyTimeout alone only bounds silence. */
  metadataDeadline: duration.prefault('60s'),
  /** Plain http to any upstream host; without it only https, and http only to configured http:// upstream URLs. */
  allowHttp: z.boolean().prefault(false),
  /** Lets upstream requests reach loopback, private, link-local and other non-public addresses. */
  allowPrivateAddresses: z.boolean().prefault(false),
  /** Non-public addresses or blocks upstream requests may reach ("10.1.2.3", "fd00::/8"). */
  allowAddresses: z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: 'expected an IP address or CIDR block' })).prefault([]),
  /** Artifacts from hosts an upstream named (not configured ones) are held back whole, up to this size, until verified. */
  holdBackAllBelow: size.prefault('64MiB'),
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

/** The core sections (everything but the modes). */
const coreShape = {
  server: serverSchema.prefault({}),
  storage: storageSchema
    .superRefine((st, ctx) => {
      if (st.type === 's3' && st.s3 === undefined) ctx.addIssue({ code: 'custom', message: 'storage.type is s3 but storage.s3 (bucket, region, …) is missing', path: ['s3'] });
    })
    .prefault({}),
  upstream: upstreamSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  coordination: coordinationSchema.prefault({}),
  admin: adminSchema.prefault({}),
  log: logSchema.prefault({}),
};

type CoreConfig = z.output<z.ZodObject<typeof coreShape>>;

/**
 * The whole schema for a set of modes: the core sections, a top-level
 * section per mode that has one (`terraform:`), and `instances:`. Every
 * object is strict, so a misspelt key is an error, not a silent default.
 * The output lists every enabled instance, section modes first, in one
 * `instances` array; the composition root loops over it.
 */
export function createConfigSchema(modes: readonly ModeSchemaInfo[]) {
  const sections = modes.filter((m) => m.section);
  const sectionShape = Object.fromEntries(sections.map((m) => [m.name, m.schema.optional()]));
  return z.strictObject({ ...coreShape, ...sectionShape, instances: instancesSchema(modes) }).transform((parsed): CoreConfig & { instances: InstanceConfig[] } => {
    const all = parsed as Record<string, unknown> & CoreConfig & { instances: InstanceConfig[] };
    const fromSections: InstanceConfig[] = [];
    for (const m of sections) {
      const settings = all[m.name];
      if (settings !== undefined) fromSections.push(toInstance(m.name, m.name, settings as Record<string, unknown>));
    }
    const core = Object.fromEntries(Object.keys(coreShape).map((k) => [k, all[k]])) as CoreConfig;
    return { ...core, instances: [...fromSections, ...all.instances] };
  });
}

/** The schema for the registered modes (src/mirrors/modes.ts). */
export const configSchema = createConfigSchema(MODES);

/** Makes a parsed value read-only all the way down, matching the runtime deep freeze. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Validated configuration: defaults applied, durations in ms, sizes in bytes, paths absolute. */
export type Config = DeepReadonly<z.output<typeof configSchema>>;

export type { InstanceConfig };


/** What a config file may contain before defaults and normalisation. */
export type ConfigInput = z.input<typeof configSchema>;
