/**
 * Loads configuration once at start-up: embedded defaults < YAML file <
 * environment < flags, validated in a single pass by the schema and frozen
 * so nothing can drift at runtime. Every problem is reported at once, each
 * naming the key path, so an operator can fix a file in one round trip.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { coerceLeafValue, findLeaf, readEnvOverrides, type ConfigOverride } from './env.js';
import { MODES } from '../mirrors/modes.js';
import { isCacheProxyFormat, stripIgnoredTransport, translateCacheProxy } from './cache-proxy.js';
import { configSchema, DEFAULT_LISTEN, type Config } from './schema.js';

/** Invalid configuration; `issues` holds one human-readable line per problem, each starting with the key path. */
export class ConfigError extends Error {
  readonly issues: string[];

  constructor(issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = [...issues];
  }
}

/** One `--set key.path=value` flag; the value is read like an environment variable. */
export interface ConfigSetting {
  readonly path: string;
  readonly value: string;
}

/** Configuration given on the command line; these win over the file and the environment. */
export interface ConfigFlags {
  readonly listen?: string | undefined;
  readonly storagePath?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly publicUrl?: string | undefined;
  /** Applied after the named flags, in order, so a later `--set` wins. */
  readonly set?: readonly ConfigSetting[] | undefined;
}

/** Inputs of loadConfig; `env` and `flags` are explicit so tests never depend on the real process. */
export interface LoadConfigOptions {
  readonly file?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly flags: ConfigFlags;
}

type RawObject = Record<string, unknown>;
type Issue = z.core.$ZodIssue;

const NAMED_FLAGS: readonly { readonly flag: keyof ConfigFlags; readonly option: string; readonly key: string }[] = [
  { flag: 'listen', option: '--listen', key: 'server.listen' },
  { flag: 'storagePath', option: '--storage-path', key: 'storage.path' },
  { flag: 'logLevel', option: '--log-level', key: 'log.level' },
  { flag: 'publicUrl', option: '--public-url', key: 'server.publicUrl' },
];

function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Drops null values from mappings: an empty YAML key (`publicUrl:`) means
 * "not set". Keys are defined as own properties so a `__proto__` key is
 * reported as unknown instead of changing the object's prototype.
 */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isObject(value)) return value;
  const out: RawObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (child !== null) {
      Object.defineProperty(out, key, { value: dropNulls(child), enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

async function readYamlFile(file: string): Promise<RawObject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new ConfigError([`${file}: cannot read config file (${reason})`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((err) => {
        const where = err.linePos?.[0];
        const reason = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return `${file}:${where?.line ?? '?'}:${where?.col ?? '?'}: YAML syntax error: ${reason}`;
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([`${file}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (data === null || data === undefined) return {};
  if (!isObject(data)) throw new ConfigError([`${file}: expected a mapping of settings at the top level`]);
  return dropNulls(data) as RawObject;
}

function setPath(root: RawObject, path: readonly string[], value: unknown): void {
  let node = root;
  path.forEach((segment, index) => {
    if (index === path.length - 1) {
      node[segment] = value;
      return;
    }
    const child = node[segment];
    const next: RawObject = isObject(child) ? child : {};
    node[segment] = next;
    node = next;
  });
}

function flagOverrides(flags: ConfigFlags, issues: string[]): ConfigOverride[] {
  const overrides: ConfigOverride[] = [];
  const add = (key: string, text: string, source: string): void => {
    const leaf = findLeaf(key);
    const result = leaf === undefined ? `${key}: unknown key (from ${source})` : coerceLeafValue(leaf, text, source);
    if (typeof result === 'string') issues.push(result);
    else overrides.push(result);
  };
  for (const { flag, option, key } of NAMED_FLAGS) {
    const value = flags[flag];
    if (typeof value === 'string') add(key, value, option);
  }
  for (const setting of flags.set ?? []) add(setting.path, setting.value, `--set ${setting.path}`);
  return overrides;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}

/** Describes a rejected value without ever echoing secrets. */
function describeInput(input: unknown, path: readonly PropertyKey[]): string {
  if (path.includes('token')) return typeof input === 'string' ? 'a string' : typeof input;
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  const text = JSON.stringify(input) ?? typeof input;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const EXPECTED_NAMES: Readonly<Record<string, string>> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function describeIssue(issue: Issue, path: readonly PropertyKey[]): string {
  const got = (): string => (issue.input === undefined ? '' : `, got ${describeInput(issue.input, path)}`);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}${got()}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}${got()}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return `must be at least ${String(issue.minimum)}${got()}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${got()}`;
    case 'invalid_union':
      return `${issue.message}${got()}`;
    default:
      return issue.message;
  }
}

/** A union branch is informative when it failed on something deeper than the branch's own type. */
function isInformative(branch: readonly Issue[]): boolean {
  return branch.some(
    (issue) => issue.path.length > 0 || (issue.code !== 'invalid_type' && issue.code !== 'invalid_value'),
  );
}

function flattenIssue(issue: Issue, base: readonly PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
  if (issue.code === 'invalid_union') {
    const informative = issue.errors.filter(isInformative);
    const [only] = informative;
    if (informative.length === 1 && only !== undefined) return only.flatMap((inner) => flattenIssue(inner, path));
  }
  return [{ path, message: describeIssue(issue, path) }];
}

function sourceOf(path: readonly PropertyKey[], overrides: readonly ConfigOverride[]): string | undefined {
  const segments = path.map(String);
  const matches = overrides.filter(
    (override) =>
      override.path.length <= segments.length && override.path.every((part, index) => segments[index] === part),
  );
  return matches.at(-1)?.source;
}

function formatIssues(issues: readonly Issue[], overrides: readonly ConfigOverride[]): string[] {
  return issues
    .flatMap((issue) => flattenIssue(issue, []))
    .map(({ path, message }) => {
      const source = sourceOf(path, overrides);
      return `${formatPath(path)}: ${message}${source === undefined ? '' : ` (from ${source})`}`;
    });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Builds the configuration from defaults, an optional YAML file, the
 * environment and command-line flags (later wins), validates it once and
 * returns it deeply frozen.
 * @throws ConfigError listing every problem found.
 */
export async function loadConfig(opts: LoadConfigOptions): Promise<Config> {
  return (await loadConfigReport(opts)).config;
}

/** A loaded configuration and the keys of the file that have no effect (cache-proxy keys regcache does not use). */
export interface LoadedConfig {
  config: Config;
  ignored: string[];
}

/**
 * loadConfig, also saying which keys were ignored. A file in cache-proxy's
 * format (src/config/cache-proxy.ts) is translated first and runs only the
 * instances it lists; a file in regcache's format (or none) also runs every
 * mode that has a top-level section (terraform), with defaults when absent.
 */
export async function loadConfigReport(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const file = opts.file === undefined ? {} : await readYamlFile(opts.file);
  const cacheProxy = isCacheProxyFormat(file);
  const { raw, ignored } = cacheProxy ? translateCacheProxy(file) : { raw: file, ignored: [] };
  ignored.push(...stripIgnoredTransport(raw));
  if (!cacheProxy) for (const m of MODES) if (m.section && raw[m.name] === undefined) raw[m.name] = {};
  const server = raw['server'];
  const fileListen = isObject(server) ? server['listen'] : undefined;
  const issues: string[] = [];
  const env = readEnvOverrides(opts.env, typeof fileListen === 'string' ? fileListen : DEFAULT_LISTEN);
  issues.push(...env.issues);
  const overrides = [...env.overrides, ...flagOverrides(opts.flags, issues)];
  for (const override of overrides) setPath(raw, override.path, override.value);

  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) issues.push(...formatIssues(result.error.issues, overrides));
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return { config: deepFreeze(result.data), ignored };
}

/** The embedded defaults, validated and frozen; what `npm start` runs with when no file is given. */
export function defaultConfig(): Config {
  return deepFreeze(configSchema.parse(Object.fromEntries(MODES.filter((m) => m.section).map((m) => [m.name, {}]))));
}
