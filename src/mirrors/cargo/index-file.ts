/**
 * A crate's sparse index file: one JSON object per line, one line per
 * published version (`name`, `vers`, `deps`, `cksum` …). regcache reads it
 * for one thing, the sha-256 (`cksum`) a `.crate` download must have;
 * lines it cannot read are skipped, as cargo skips them.
 */

/** The line of one version. */
export interface IndexEntry {
  /** The name as published (case kept): `{crate}` of the download URL. */
  name: string;
  vers: string;
  /** Lowercase hex sha-256 of the `.crate` file. */
  cksum: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The entry of `version` in an index file, if it lists one with a valid checksum. */
export function findEntry(body: Buffer, lname: string, version: string): IndexEntry | undefined {
  for (const line of body.toString('utf8').split('\n')) {
    if (!line.includes(version)) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const { name, vers, cksum } = v as Record<string, unknown>;
    if (typeof name !== 'string' || typeof vers !== 'string' || typeof cksum !== 'string') continue;
    if (vers === version && name.toLowerCase() === lname && SHA256.test(cksum)) return { name, vers, cksum };
  }
  return undefined;
}
