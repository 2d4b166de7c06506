/**
 * `.terraform.lock.hcl` as Terraform writes it (depsfile.SaveLocksToFile via
 * hclwrite), byte for byte, so `terraform init` leaves our file untouched:
 * the two header comment lines, providers ordered by address, `version` and
 * `constraints` aligned, hashes sorted one per line with trailing commas.
 */

/** One provider's lock entry. */
export interface LockEntry {
  address: string;
  version: string;
  /** Canonical constraint string; "" writes no `constraints` line. */
  constraints: string;
  hashes: readonly string[];
}

const HEADER = '# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n';

/** HCL string literal (Terraform's escapes; lock values are plain ASCII in practice). */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\$\{/g, '$${').replace(/%\{/g, '%%{')}"`;
}

/** Renders entries (already in Terraform's provider order). */
export function renderLockFile(entries: readonly LockEntry[]): string {
  const blocks = entries.map((e) => {
    const hashes = [...new Set(e.hashes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const lines = [`provider ${quote(e.address)} {`];
    if (e.constraints === '') {
      lines.push(`  version = ${quote(e.version)}`);
    } else {
      lines.push(`  version     = ${quote(e.version)}`, `  constraints = ${quote(e.constraints)}`);
    }
    lines.push('  hashes = [', ...hashes.map((h) => `    ${quote(h)},`), '  ]', '}');
    return lines.join('\n') + '\n';
  });
  return `${HEADER}\n${blocks.join('\n')}`;
}

/** `provider "addr" { version = "x" }` pairs of an existing lock file (missing or unreadable: none). */
export function lockedVersions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^provider\s+"([^"]+)"\s*\{([^}]*)\}/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const version = /^\s*version\s*=\s*"([^"]+)"/m.exec(m[2] ?? '')?.[1];
    if (m[1] !== undefined && version !== undefined) out.set(m[1].toLowerCase(), version);
  }
  return out;
}
