/**
 * Terraform's canonical form of version constraints, as it writes them to
 * `constraints = "…"` in lock files (getproviders.VersionConstraintsString):
 * abbreviated versions padded with zeros, `=` dropped, duplicates removed,
 * sorted by version then operator. A lock file with another spelling is
 * read fine but rewritten by the next `terraform init`, so ours must match.
 */
import semver from 'semver';
import { CommandError } from '../../../cli/kit/tool-io.js';

const CLAUSE = /^(=|!=|>=|<=|>|<|~>)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/** Operator order of Terraform's canonical form (`~>` split by how many parts it names). */
const PRIORITY: Readonly<Record<string, number>> = { '>': 1, '>=': 2, '=': 3, '~>patch': 4, '~>minor': 5, '<=': 6, '<': 7, '!=': 8 };

interface Clause {
  op: string;
  core: string;
  pre: string;
  build: string;
  text: string;
}

/** Splits `">= 1.0, < 2.0"` into checked clauses; `at` locates errors. */
export function splitConstraints(text: string, at: string): string[] {
  const clauses = text.split(',').map((c) => c.trim());
  for (const c of clauses) {
    if (!CLAUSE.test(c)) throw new CommandError(`${at}: invalid version constraint ${JSON.stringify(text)}`);
  }
  return clauses;
}

function parseClause(text: string): Clause {
  const m = CLAUSE.exec(text);
  if (!m) throw new CommandError(`invalid version constraint ${JSON.stringify(text)}`);
  const [, rawOp = '=', major = '0', minor, patch, pre = '', build = ''] = m;
  const core = `${Number(major)}.${Number(minor ?? 0)}.${Number(patch ?? 0)}`;
  const op = rawOp === '~>' ? (patch === undefined ? '~>minor' : '~>patch') : rawOp;
  const shown = op === '~>minor' ? core.split('.').slice(0, 2).join('.') : core;
  const symbol = op === '=' ? '' : `${op.startsWith('~>') ? '~>' : op} `;
  const rendered = `${symbol}${shown}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`;
  return { op, core, pre, build, text: rendered };
}

function compareClauses(a: Clause, b: Clause): number {
  const va = `${a.core}${a.pre ? `-${a.pre}` : ''}`;
  const vb = `${b.core}${b.pre ? `-${b.pre}` : ''}`;
  const byVersion = semver.compare(va, vb) || (a.build < b.build ? -1 : a.build > b.build ? 1 : 0);
  return byVersion || (PRIORITY[a.op] ?? 0) - (PRIORITY[b.op] ?? 0);
}

/** The canonical constraint string for a set of clauses; "" for none. */
export function canonicalConstraints(clauses: readonly string[]): string {
  const unique = new Map<string, Clause>();
  for (const c of clauses) {
    const parsed = parseClause(c);
    unique.set(`${parsed.op} ${parsed.text}`, parsed);
  }
  return [...unique.values()]
    .sort(compareClauses)
    .map((c) => c.text)
    .join(', ');
}
