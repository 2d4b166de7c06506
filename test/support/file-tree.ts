/** Listing a directory tree, for tests that look at what the store left on disk. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Relative '/'-separated paths of every file below `dir` (missing dir → none). */
export async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listTree(join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}
