/**
 * Environment variables and `--set` flags as configuration overrides. The
 * list of settable keys is derived by walking the schema, so a key added to
 * the schema is settable from the environment without touching this file.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

/** How a string from the environment or `--set` is turned into a config value before validation. */
export type LeafKind = 'string' | 'number' | 'boolean' | 'json';

/** A settable key of the configuration, with its environment variable name. */
export interface ConfigLeaf {
  /** Key path segments, e.g. ["server", "publicUrl"]. */
  readonly path: readonly string[];
  /** Dotted key path, e.g. "server.publicUrl"; what `--set` and error messages use. */
  readonly key: string;
  /** Environment variable, e.g. "REGCACHE_SERVER_PUBLIC_URL". */
  readonly envVar: string;
  readonly kind: LeafKind;
}

/** One value to write into the raw configuration, remembering where it came from for error messages. */
export interface ConfigOverride {
  readonly path: readonly string[];
  readonly value: unknown;
  /** Human label of the origin, e.g. "REGCACHE_LOG_LEVEL" or "--set log.level". */
  readonly source: string;
}

/** Overrides found in the environment plus problems that prevented reading some of them. */
export interface EnvOverrides {
  readonly overrides: readonly ConfigOverride[];
  readonly issues: readonly string[];
}

/** Prefix of every environment variable regcache reads for configuration. */
export const ENV_PREFIX = 'REGCACHE_';

/** Names used by other registry mirrors, accepted so migrating deployments keep working. */
const PATH_ALIASES: readonly { readonly name: string; readonly key: string }[] = [
  { name: 'CACHE_DIR', key: 'storage.path' },
  { name: 'LOG_LEVEL', key: 'log.level' },
  { name: 'STORAGE_TYPE', key: 'storage.type' },
  { name: 'S3_BUCKET', key: 'storage.s3.bucket' },
  { name: 'S3_REGION', key: 'storage.s3.region' },
  { name: 'S3_ENDPOINT', key: 'storage.s3.endpoint' },
  { name: 'S3_PREFIX', key: 'storage.s3.prefix' },
];

type AnySchema = z.core.$ZodType;

/** Strips wrappers that do not change which key a value belongs to. */
function unwrap(schema: AnySchema): AnySchema {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodNullable
  ) {
    return unwrap(schema.unwrap());
  }
  if (schema instanceof z.ZodPipe) return unwrap(schema.in);
  return schema;
}

function kindOf(schema: AnySchema): LeafKind {
  if (schema instanceof z.ZodNumber) return 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodArray || schema instanceof z.ZodObject) return 'json';
  if (schema instanceof z.ZodUnion) {
    const kinds = schema.options.map((option) => kindOf(unwrap(option)));
    if (kinds.includes('json')) return 'json';
    return kinds.every((kind) => kind === 'boolean') ? 'boolean' : 'string';
  }
  if (schema instanceof z.ZodLiteral && schema.values.size > 0) {
    return [...schema.values].every((value) => typeof value === 'boolean') ? 'boolean' : 'string';
  }
  return 'string';
}

/** "publicUrl" → "PUBLIC_URL". */
function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Environment variable for a key path: ["server", "publicUrl"] → "REGCACHE_SERVER_PUBLIC_URL". */
export function envVarName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(snakeCase).join('_');
}

function walkObject(schema: z.ZodObject, path: readonly string[], out: ConfigLeaf[]): void {
  for (const [name, child] of Object.entries<AnySchema>(schema.shape)) walk(child, [...path, name], out);
}

function walk(schema: AnySchema, path: readonly string[], out: ConfigLeaf[]): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    walkObject(inner, path, out);
    return;
  }
  out.push({ path, key: path.join('.'), envVar: envVarName(path), kind: kindOf(inner) });
  if (inner instanceof z.ZodUnion) {
    for (const option of inner.options) {
      const branch = unwrap(option);
      if (branch instanceof z.ZodObject) walkObject(branch, path, out);
    }
  }
}

/** Every settable key of a schema (the config schema by default), in schema order. */
export function configLeaves(schema: AnySchema = configSchema): readonly ConfigLeaf[] {
  const out: ConfigLeaf[] = [];
  walk(schema, [], out);
  return out;
}

const LEAVES = configLeaves();
const LEAF_BY_KEY = new Map(LEAVES.map((leaf) => [leaf.key, leaf]));

/** Looks up a settable key by its dotted path; undefined for unknown or non-leaf keys. */
export function findLeaf(key: string): ConfigLeaf | undefined {
  return LEAF_BY_KEY.get(key);
}

/**
 * Turns a string into the value the schema expects for a leaf: numbers and
 * `true`/`false` are converted, lists and objects are read as JSON, and
 * anything unconvertible is passed through so the schema reports it with
 * its usual message. Returns an issue string only for broken JSON.
 */
export function coerceLeafValue(leaf: ConfigLeaf, text: string, source: string): ConfigOverride | string {
  const override = (value: unknown): ConfigOverride => ({ path: leaf.path, value, source });
  switch (leaf.kind) {
    case 'number':
      return override(/^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text);
    case 'boolean':
      return override(text === 'true' ? true : text === 'false' ? false : text);
    case 'json':
      try {
        return override(JSON.parse(text) as unknown);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return `${leaf.key}: ${source} is not valid JSON (${reason})`;
      }
    case 'string':
      return override(text);
  }
}

/** Replaces the port of a host:port string, keeping the host (including IPv6 brackets). */
function withPort(listen: string, port: string): string {
  const colon = listen.lastIndexOf(':');
  const host = colon > 0 && !listen.endsWith(']') ? listen.slice(0, colon) : listen;
  return `${host}:${port}`;
}

/**
 * Reads configuration overrides from the environment. Empty variables are
 * treated as unset (as compose files and shells often produce them).
 * `currentListen` is the listen address from the lower layers (file or
 * default), whose host the `PORT` alias keeps. A `REGCACHE_*` variable wins
 * over an alias for the same key.
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv, currentListen: string): EnvOverrides {
  const overrides: ConfigOverride[] = [];
  const issues: string[] = [];
  const isSet = (name: string): boolean => (env[name] ?? '') !== '';
  const add = (leaf: ConfigLeaf, text: string, source: string): void => {
    const result = coerceLeafValue(leaf, text, source);
    if (typeof result === 'string') issues.push(result);
    else overrides.push(result);
  };

  const listenLeaf = findLeaf('server.listen');
  const port = env['PORT'] ?? '';
  if (listenLeaf !== undefined && port !== '' && !isSet(listenLeaf.envVar)) {
    add(listenLeaf, withPort(currentListen, port), 'PORT');
  }
  for (const alias of PATH_ALIASES) {
    const leaf = findLeaf(alias.key);
    const text = env[alias.name] ?? '';
    if (leaf !== undefined && text !== '' && !isSet(leaf.envVar)) add(leaf, text, alias.name);
  }
  for (const leaf of LEAVES) {
    const text = env[leaf.envVar] ?? '';
    if (text !== '') add(leaf, text, leaf.envVar);
  }
  return { overrides, issues };
}
