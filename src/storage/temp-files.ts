/**
 * Temp files of writers in progress (fs store temps, S3 spool files) are
 * named <pid>-<boot>-<random>, so at start a process can tell which ones
 * belong to writers that are gone — also when several processes share the
 * directory, and when a restarted container reuses the same pid.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Distinguishes this process from an earlier one with the same pid. */
export const BOOT = Date.now().toString(36);
const STALE_MS = 24 * 3600 * 1000;

/** A fresh temp file name owned by this process. */
export function tempName(tag = ''): string {
  return `${process.pid}-${BOOT}-${tag}${randomBytes(8).toString('hex')}`;
}

/**
 * Removes temp files whose writer is dead (or that are a day old) from
 * `dir`; names `accept` rejects are left alone. A missing dir is fine.
 */
export async function removeDeadTemps(dir: string, accept: (name: string) => boolean = () => true): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const now = Date.now();
  await Promise.all(
    names.filter(accept).map(async (name) => {
      const [pidText, boot] = name.split('-');
      const pid = Number(pidText);
      let dead = !Number.isInteger(pid) || pid <= 0 || (pid === process.pid && boot !== BOOT);
      if (!dead && pid !== process.pid) {
        try {
          process.kill(pid, 0);
        } catch (err) {
          dead = (err as NodeJS.ErrnoException).code === 'ESRCH';
        }
      }
      const full = join(dir, name);
      if (!dead) {
        const st = await stat(full).catch(() => undefined);
        dead = st !== undefined && now - st.mtimeMs > STALE_MS;
      }
      if (dead) await rm(full, { force: true, recursive: true });
    }),
  );
}
