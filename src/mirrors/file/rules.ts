/**
 * Which policy a path gets: the instance's defaults, overridden by
 * `rules[]` in cache-proxy's order. Every rule whose `match` fits the path
 * applies, top to bottom, and overrides the fields it sets; so for each
 * field the last matching rule that sets it wins (general rules first,
 * specific ones after). Patterns are doublestar globs over the path below
 * the mount, without a leading slash, matched by picomatch.
 */
import picomatch from 'picomatch';
import { GLOB_OPTIONS } from '../../config/types.js';
import { type BusyPolicy, type FilePolicy, type FileRule, type FileSettings } from './settings.js';

/** The caching decision for one path. */
export interface ResolvedPolicy {
  policy: FilePolicy;
  /** Infinity = forever. */
  freshForMs: number;
  busy: BusyPolicy;
  /** Infinity = never. */
  expireAfterMs: number;
}

/** Resolves paths against compiled rules. */
export type PolicyResolver = (path: string) => ResolvedPolicy;

/** Compiles the rules once; `instanceExpireAfterMs` is the instance's `expire_after`. */
export function createPolicyResolver(settings: Pick<FileSettings, 'default_policy' | 'fresh_for' | 'busy_policy' | 'rules'>, instanceExpireAfterMs: number): PolicyResolver {
  const compiled = settings.rules.map((r: FileRule) => ({ rule: r, test: picomatch(r.match, GLOB_OPTIONS) }));
  return (path) => {
    const out: ResolvedPolicy = {
      policy: settings.default_policy,
      freshForMs: settings.fresh_for,
      busy: settings.busy_policy,
      expireAfterMs: instanceExpireAfterMs,
    };
    for (const { rule, test } of compiled) {
      if (!test(path)) continue;
      if (rule.policy !== undefined) out.policy = rule.policy;
      if (rule.fresh_for !== undefined) out.freshForMs = rule.fresh_for;
      if (rule.busy_policy !== undefined) out.busy = rule.busy_policy;
      if (rule.expire_after !== undefined) out.expireAfterMs = rule.expire_after;
    }
    return out;
  };
}
