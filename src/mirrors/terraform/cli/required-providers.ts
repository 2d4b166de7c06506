/**
 * Reads the providers a Terraform configuration directory requires, from
 * `terraform { required_providers { … } }` blocks, as Terraform would: the
 * object form (`name = { source = "…", version = "…" }`), the legacy form
 * (`name = "1.2.0"` meaning `hashicorp/name`), override files applied last,
 * and constraints for the same provider merged. Everything else in the
 * files is skipped, but tokenized properly so it cannot confuse the scan.
 * Modules and `.tf.json` files are not read.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseHost, parseName } from '../names.js';
import { canonicalConstraints, splitConstraints } from './constraint-string.js';
import { HclSyntaxError, tokenize, type Token } from './hcl-tokens.js';
import { CommandError } from '../../../cli/kit/tool-io.js';

/** One `required_providers` entry as written. */
export interface ProviderRequirement {
  name: string;
  source?: string;
  version?: string;
  /** `file:line`, for messages. */
  at: string;
}

/** A provider the configuration needs. */
export interface RequiredProvider {
  /** `host/namespace/type`, lowercased as Terraform records it. */
  address: string;
  host: string;
  namespace: string;
  type: string;
  /** Terraform's canonical form of all constraints on it; "" when unconstrained. */
  constraints: string;
}

const DEFAULT_HOST = 'registry.terraform.io';

/** Index of the token closing the bracket opened at `open`. */
function closing(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i];
    if (t?.kind !== 'punct') continue;
    if (t.text === '{' || t.text === '[' || t.text === '(') depth++;
    if (t.text === '}' || t.text === ']' || t.text === ')') depth--;
    if (depth === 0) return i;
  }
  throw new HclSyntaxError('unclosed bracket', tokens[open]?.line ?? 0);
}

/** Index after an expression starting at `i` (stops before a newline, ',' or closing bracket at depth 0). */
function skipExpression(tokens: readonly Token[], i: number): number {
  let k = i;
  for (;;) {
    const t = tokens[k];
    if (t === undefined || t.kind === 'newline') return k;
    if (t.kind === 'punct') {
      if (t.text === ',' || t.text === '}' || t.text === ']' || t.text === ')') return k;
      if (t.text === '{' || t.text === '[' || t.text === '(') {
        k = closing(tokens, k) + 1;
        continue;
      }
    }
    k++;
  }
}

/** Blocks `name {` directly in the body [from, to): their body ranges. */
function blocksNamed(tokens: readonly Token[], from: number, to: number, name: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let atStart = true;
  for (let i = from; i < to; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    if (t?.kind === 'newline') {
      atStart = true;
      continue;
    }
    if (t?.kind === 'punct' && (t.text === '{' || t.text === '[' || t.text === '(')) {
      const end = closing(tokens, i);
      i = end;
      atStart = false;
      continue;
    }
    if (atStart && t?.kind === 'ident' && t.text === name && next?.kind === 'punct' && next.text === '{') {
      const end = closing(tokens, i + 1);
      out.push([i + 2, end]);
      i = end;
    }
    atStart = false;
  }
  return out;
}

const stringValue = (t: Token | undefined, what: string): string => {
  if (t?.kind !== 'string') throw new HclSyntaxError(`${what} must be a quoted string`, t?.line ?? 0);
  if (t.value === undefined) throw new HclSyntaxError(`${what} must be a literal string, not a template`, t.line);
  return t.value;
};

/** Parses the body of one required_providers block. */
function parseRequiredProviders(tokens: readonly Token[], from: number, to: number, file: string): ProviderRequirement[] {
  const out: ProviderRequirement[] = [];
  let i = from;
  const skipSeparators = (): void => {
    while (i < to && (tokens[i]?.kind === 'newline' || (tokens[i]?.kind === 'punct' && (tokens[i] as { text: string }).text === ','))) i++;
  };
  for (skipSeparators(); i < to; skipSeparators()) {
    const nameTok = tokens[i];
    const eq = tokens[i + 1];
    if (nameTok?.kind !== 'ident' || eq?.kind !== 'punct' || eq.text !== '=') {
      throw new HclSyntaxError('expected `name = { source = "…", version = "…" }` in required_providers', nameTok?.line ?? 0);
    }
    const req: ProviderRequirement = { name: nameTok.text, at: `${file}:${nameTok.line}` };
    const value = tokens[i + 2];
    if (value?.kind === 'string') {
      req.version = stringValue(value, `required_providers.${req.name}`);
      i += 3;
    } else if (value?.kind === 'punct' && value.text === '{') {
      const end = closing(tokens, i + 2);
      parseObject(tokens, i + 3, end, req);
      i = end + 1;
    } else {
      throw new HclSyntaxError(`required_providers.${req.name} must be an object or a version string`, nameTok.line);
    }
    out.push(req);
  }
  return out;
}

/** Reads `source` and `version` of an object constructor; other keys are skipped. */
function parseObject(tokens: readonly Token[], from: number, to: number, req: ProviderRequirement): void {
  let i = from;
  while (i < to) {
    const t = tokens[i];
    if (t?.kind === 'newline' || (t?.kind === 'punct' && t.text === ',')) {
      i++;
      continue;
    }
    const key = t?.kind === 'ident' ? t.text : t?.kind === 'string' ? t.value : undefined;
    const sep = tokens[i + 1];
    if (key === undefined || sep?.kind !== 'punct' || (sep.text !== '=' && sep.text !== ':')) {
      throw new HclSyntaxError(`expected \`key = value\` in required_providers.${req.name}`, t?.line ?? 0);
    }
    if (key === 'source' || key === 'version') {
      req[key] = stringValue(tokens[i + 2], `required_providers.${req.name}.${key}`);
      i += 3;
    } else {
      i = skipExpression(tokens, i + 2);
    }
  }
}

/** Every required_providers entry of one file's text. */
export function requirementsOf(text: string, file: string): ProviderRequirement[] {
  try {
    const tokens = tokenize(text);
    const out: ProviderRequirement[] = [];
    for (const [from, to] of blocksNamed(tokens, 0, tokens.length, 'terraform')) {
      for (const [rpFrom, rpTo] of blocksNamed(tokens, from, to, 'required_providers')) out.push(...parseRequiredProviders(tokens, rpFrom, rpTo, file));
    }
    return out;
  } catch (err) {
    if (err instanceof HclSyntaxError) throw new CommandError(`${file}:${err.line}: ${err.message}`);
    throw err;
  }
}

/** `hashicorp/aws`, `aws` or `host/ns/type` → parts, lowercased and checked. */
export function parseSource(source: string, at: string): { host: string; namespace: string; type: string } {
  const parts = source.split('/');
  const [a = '', b = '', c = ''] = parts;
  try {
    if (parts.length === 1) return { host: DEFAULT_HOST, namespace: 'hashicorp', type: parseName('type', a) };
    if (parts.length === 2) return { host: DEFAULT_HOST, namespace: parseName('namespace', a), type: parseName('type', b) };
    if (parts.length === 3) return { host: parseHost(a), namespace: parseName('namespace', b), type: parseName('type', c) };
  } catch (err) {
    throw new CommandError(`${at}: ${(err as Error).message} in source ${JSON.stringify(source)}`);
  }
  throw new CommandError(`${at}: invalid provider source ${JSON.stringify(source)}`);
}

const isOverride = (file: string): boolean => file === 'override.tf' || file.endsWith('_override.tf');

/**
 * Merges entries the way Terraform does for one module: a local name once
 * per module (an override file's entry then replaces it whole), and all
 * constraints on the same provider address combined.
 */
export function mergeRequirements(base: readonly ProviderRequirement[], overrides: readonly ProviderRequirement[]): RequiredProvider[] {
  const byName = new Map<string, ProviderRequirement>();
  for (const r of base) {
    const seen = byName.get(r.name);
    if (seen) throw new CommandError(`${r.at}: duplicate required_providers entry ${JSON.stringify(r.name)} (first at ${seen.at})`);
    byName.set(r.name, { ...r });
  }
  for (const r of overrides) byName.set(r.name, { ...r });
  const byAddress = new Map<string, RequiredProvider & { clauses: string[] }>();
  for (const r of byName.values()) {
    const { host, namespace, type } = parseSource(r.source ?? r.name, r.at);
    if (host === 'terraform.io' && namespace === 'builtin') continue;
    const address = `${host}/${namespace}/${type}`;
    const entry = byAddress.get(address) ?? { address, host, namespace, type, constraints: '', clauses: [] };
    if (r.version !== undefined) entry.clauses.push(...splitConstraints(r.version, r.at));
    byAddress.set(address, entry);
  }
  return [...byAddress.values()]
    .map(({ clauses, ...p }) => ({ ...p, constraints: canonicalConstraints(clauses) }))
    .sort((x, y) => compareAddress(x, y));
}

/** Terraform's provider order: host, then namespace, then type. */
export function compareAddress(x: RequiredProvider, y: RequiredProvider): number {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return cmp(x.host, y.host) || cmp(x.namespace, y.namespace) || cmp(x.type, y.type);
}

/** The providers required by the `.tf` files of `path` (a directory or one `.tf` file). */
export async function requiredProviders(path: string): Promise<RequiredProvider[]> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new CommandError(`${path}: no such file or directory`);
  const files = info.isDirectory()
    ? (await readdir(path)).filter((f) => f.endsWith('.tf')).sort().map((f) => join(path, f))
    : [path];
  const base: ProviderRequirement[] = [];
  const overrides: ProviderRequirement[] = [];
  for (const file of files) {
    const found = requirementsOf(await readFile(file, 'utf8'), file);
    (isOverride(basename(file)) ? overrides : base).push(...found);
  }
  return mergeRequirements(base, overrides);
}
