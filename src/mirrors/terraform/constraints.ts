/**
 * Terraform version constraints (`= 1.2.0`, `!= 1.3.0`, `>= 1.0, < 2.0`,
 * `~> 1.2`, `~> 1.2.3`, bare `1.2.3`) evaluated with semver. Terraform's
 * `~>` allows the rightmost given component to grow: `~> 1.2` is >= 1.2.0,
 * < 2.0.0; `~> 1.2.3` is >= 1.2.3, < 1.3.0. Pre-releases match only when
 * named exactly, as in Terraform.
 */
import semver from 'semver';
import { RegcacheError } from '../../core/errors.js';

/** A parsed constraint: true when a version satisfies every clause. */
export type VersionPredicate = (version: string) => boolean;

const CLAUSE = /^(=|!=|>=|<=|>|<|~>)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Parses a constraint string; throws ERR_BAD_REQUEST when malformed. */
export function parseConstraint(text: string): VersionPredicate {
  const clauses = text.split(',').map((c) => c.trim());
  if (clauses.length === 0 || clauses.some((c) => c === '')) throw new RegcacheError('ERR_BAD_REQUEST', `invalid version constraint ${JSON.stringify(text)}`);
  const tests = clauses.map((c) => {
    const m = CLAUSE.exec(c);
    if (!m) throw new RegcacheError('ERR_BAD_REQUEST', `invalid version constraint ${JSON.stringify(c)}`);
    const [, op = '=', major = '0', minor, patch, pre = ''] = m;
    const v = `${major}.${minor ?? '0'}.${patch ?? '0'}${pre}`;
    switch (op) {
      case '=':
        return (x: string) => semver.eq(x, v);
      case '!=':
        return (x: string) => !semver.eq(x, v);
      case '>':
        return (x: string) => semver.gt(x, v);
      case '>=':
        return (x: string) => semver.gte(x, v);
      case '<':
        return (x: string) => semver.lt(x, v);
      case '<=':
        return (x: string) => semver.lte(x, v);
      default: {
        const upper = patch !== undefined ? `${major}.${Number(minor) + 1}.0` : minor !== undefined ? `${Number(major) + 1}.0.0` : `${Number(major) + 1}.0.0`;
        return (x: string) => semver.gte(x, v) && semver.lt(x, upper);
      }
    }
  });
  const exact = clauses.filter((c) => /^=?\s*v?\d/.test(c) && !c.startsWith('!'));
  return (version) => {
    if (!semver.valid(version)) return false;
    if (semver.prerelease(version) && !exact.some((c) => semver.eq(c.replace(/^=?\s*v?/, ''), version))) return false;
    return tests.every((t) => t(version));
  };
}

/** The highest version in `versions` that satisfies `predicate`. */
export function newestMatching(versions: readonly string[], predicate: VersionPredicate): string | undefined {
  return versions.filter(predicate).sort(semver.rcompare)[0];
}
