/**
 * Curation: `terraform.allow` / `terraform.deny` patterns such as
 * `registry.terraform.io/hashicorp/*` or `{source: …, versions: "~> 5.0"}`,
 * applied to providers and modules before anything is fetched. Deny wins;
 * an empty allow list allows everything not denied. A denied address or
 * version answers 403 ERR_FORBIDDEN and is never fetched; denied versions
 * are left out of version lists.
 */
import { RegcacheError } from '../../core/errors.js';
import { parseConstraint, type VersionPredicate } from './constraints.js';

/** A configured pattern entry. */
export type PolicyEntry = string | { readonly source: string; readonly versions?: string | undefined };

interface Rule {
  text: string;
  segments: string[];
  versions: VersionPredicate | undefined;
}

/** Policy decisions for addresses like `host/ns/type` or `host/ns/name/system`. */
export interface Policy {
  /** Throws ERR_FORBIDDEN when the address (and version, if given) is not allowed. */
  check(address: string, version?: string): void;
  /** Keeps only the allowed versions of an address. */
  filter(address: string, versions: readonly string[]): string[];
  readonly active: boolean;
}

function compile(entries: readonly PolicyEntry[]): Rule[] {
  return entries.map((e) => {
    const source = typeof e === 'string' ? e : e.source;
    const versions = typeof e === 'string' ? undefined : e.versions;
    return { text: versions ? `${source} (${versions})` : source, segments: source.toLowerCase().split('/'), versions: versions ? parseConstraint(versions) : undefined };
  });
}

function matches(rule: Rule, address: string[], version: string | undefined): boolean {
  const last = rule.segments[rule.segments.length - 1];
  const prefix = last === '*' ? rule.segments.slice(0, -1) : rule.segments;
  if (last === '*' ? address.length < prefix.length : address.length !== prefix.length) return false;
  if (!prefix.every((p, i) => p === '*' || p === address[i])) return false;
  return version === undefined || rule.versions === undefined || rule.versions(version);
}

/** Compiles the configured lists (throws on a malformed version constraint). */
export function createPolicy(allow: readonly PolicyEntry[], deny: readonly PolicyEntry[]): Policy {
  const allowRules = compile(allow);
  const denyRules = compile(deny);
  const decide = (address: string, version: string | undefined): string | undefined => {
    const a = address.toLowerCase().split('/');
    const denied = denyRules.find((r) => (version === undefined ? r.versions === undefined : true) && matches(r, a, version));
    if (denied) return `denied by policy: ${denied.text}`;
    if (allowRules.length === 0) return undefined;
    const allowed = allowRules.some((r) => matches(r, a, version));
    return allowed ? undefined : 'not in the allow list';
  };
  return {
    active: allowRules.length + denyRules.length > 0,
    check(address, version) {
      const why = decide(address, version);
      if (why) throw new RegcacheError('ERR_FORBIDDEN', `${address}${version ? ` ${version}` : ''}: ${why}`);
    },
    filter(address, versions) {
      return versions.filter((v) => decide(address, v) === undefined);
    },
  };
}
