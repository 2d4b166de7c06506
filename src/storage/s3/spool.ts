/**
 * The local spool: every pending S3 object is first written to a temp file
 * here, so followers can `readAt` while a fill downloads and uploads stream
 * from disk instead of memory.
 *
 * Files are named <pid>-<boot>-<random>; at start the ones whose writer is
 * gone (or that are older than a day) are removed, so several processes may
 * share one spool dir. Only names of exactly that shape are touched: an
 * operator may point spoolDir at a directory that holds other files.
 */
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDeadTemps, tempName } from '../temp-files.js';

const SPOOL_NAME = /^(\d+)-([0-9a-z]+)-(?:probe-)?[0-9a-f]{16}$/;

/** One spool file, open for writing and reading. */
export interface SpoolFile {
  path: string;
  fh: FileHandle;
}

/** Creates the spool dir if needed and removes leftovers of dead writers. */
export async function prepareSpool(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await removeDeadTemps(dir, (name) => SPOOL_NAME.test(name));
}

/** Opens a new spool file (mode 0600: cached bytes are nobody else's business). */
export async function openSpoolFile(dir: string, tag = ''): Promise<SpoolFile> {
  const path = join(dir, tempName(tag));
  return { path, fh: await open(path, 'w+', 0o600) };
}

/** Writes and removes a probe file: throws when the spool cannot take writes. */
export async function probeSpool(dir: string): Promise<void> {
  const { path, fh } = await openSpoolFile(dir, 'probe-');
  try {
    await fh.write('ok');
  } finally {
    await fh.close();
    await unlink(path);
  }
}
