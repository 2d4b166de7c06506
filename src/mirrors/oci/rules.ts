/**
 * Which policy a repository gets: the first rule whose `match` (a
 * doublestar glob over the repository name, "library/*") fits decides, as
 * in cache-proxy; a rule's `expire_after` overrides the instance's. With no
 * matching rule the instance's `default_policy` applies. `fresh_for` and
 * `busy_policy` are the instance's.
 */
import picomatch from 'picomatch';
import { GLOB_OPTIONS } from '../../config/types.js';
import { type OciBusyPolicy, type OciPolicy, type OciSettings } from './settings.js';

/** The caching decision for one repository. */
export interface ResolvedPolicy {
  policy: OciPolicy;
  /** Infinity = forever. */
  freshForMs: number;
  busy: OciBusyPolicy;
  /** Infinity = never. */
  expireAfterMs: number;
}

/** Resolves repository names against compiled rules. */
export type PolicyResolver = (repo: string) => ResolvedPolicy;

/** Compiles the rules once; `instanceExpireAfterMs` is the instance's `expire_after`. */
export function createPolicyResolver(settings: Pick<OciSettings, 'default_policy' | 'fresh_for' | 'busy_policy' | 'rules'>, instanceExpireAfterMs: number): PolicyResolver {
  const compiled = settings.rules.map((r) => ({ rule: r, test: picomatch(r.match, GLOB_OPTIONS) }));
  return (repo) => {
    const base = { freshForMs: settings.fresh_for, busy: settings.busy_policy };
    for (const { rule, test } of compiled) {
      if (test(repo)) return { ...base, policy: rule.policy, expireAfterMs: rule.expire_after ?? instanceExpireAfterMs };
    }
    return { ...base, policy: settings.default_policy, expireAfterMs: instanceExpireAfterMs };
  };
}
