/**
 * Renewing an fs object's metadata (Store.renew): the object file is copied
 * (a reflink where the filesystem has them), the copy's metadata trailer is
 * rewritten, and the copy is renamed over the original. Readers therefore
 * see the old file or the new one, never a torn trailer, exactly as for a
 * commit. Without reflinks the copy costs one local read and write of the
 * body: no upstream transfer, which is what a 304 is meant to save.
 *
 * A commit of the same key that lands during the renewal wins: the renewal
 * notices the original file changed and gives up (undefined), instead of
 * renaming the older bytes over the newer ones.
 */
import { constants as fsc } from 'node:fs';
import { copyFile, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { renewedMeta, type ObjectMeta, type RenewPatch } from '../../core/store.js';
import { encodeTrailer, readTrailer } from './trailer.js';

const missing = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

/** Identity of the file at `path` (device and inode), undefined when absent. */
async function identity(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

/** Renews the object file at `path` through the temp file `tmpPath`; undefined when it is gone or changed meanwhile. */
export async function renewObjectFile(path: string, tmpPath: string, patch: RenewPatch): Promise<ObjectMeta | undefined> {
  const before = await identity(path);
  if (before === undefined) return undefined;
  let fh: FileHandle | undefined;
  try {
    try {
      await copyFile(path, tmpPath, fsc.COPYFILE_FICLONE);
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
    fh = await open(tmpPath, 'r+');
    const read = await readTrailer(fh);
    if (!read) return undefined;
    const meta = renewedMeta(read.meta, patch);
    const trailer = encodeTrailer(meta);
    await fh.write(trailer, 0, trailer.length, meta.size);
    await fh.truncate(meta.size + trailer.length);
    await fh.datasync();
    await fh.close();
    fh = undefined;
    if ((await identity(path)) !== before) return undefined;
    await rename(tmpPath, path);
    return meta;
  } finally {
    await fh?.close().catch(() => undefined);
    await rm(tmpPath, { force: true }).catch(() => undefined);
  }
}
