/**
 * A pending fs object: bytes go to a temp file under <root>/tmp; `commit`
 * appends the metadata trailer, fsyncs and renames the file into place, so
 * body and metadata appear together. The temp file is removed on abort,
 * failure or dispose; its descriptor stays open until dispose so followers
 * still reading get a clean error from the fill rather than EBADF.
 */
import { mkdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RegcacheError } from '../../core/errors.js';
import type { ObjectMeta, PendingObject } from '../../core/store.js';
import { createLocalAppend } from '../local-append.js';
import { encodeTrailer } from './trailer.js';

/** Wraps the temp file `fh` at `tmpPath` as a PendingObject committing to `finalPath`. */
export function createPending(
  fh: FileHandle,
  tmpPath: string,
  finalPath: string,
  storageError: (err: unknown) => RegcacheError,
  onCommitted: () => void,
): PendingObject {
  const file = createLocalAppend(fh, storageError);
  let state: 'open' | 'committed' | 'aborted' = 'open';
  let closed = false;
  const closeOnce = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => undefined);
  };
  return {
    get written() {
      return file.written;
    },
    async append(chunk) {
      if (state !== 'open') throw new Error('append after commit/abort');
      await file.append(chunk);
    },
    readAt: (position, length, into) => file.readAt(position, length, into),
    async commit(meta) {
      if (state !== 'open') throw new Error('commit after commit/abort');
      const full: ObjectMeta = { ...meta, size: file.written };
      try {
        const trailer = encodeTrailer(full);
        await fh.write(trailer, 0, trailer.length, file.written);
        await fh.datasync();
        await mkdir(dirname(finalPath), { recursive: true });
        await rename(tmpPath, finalPath);
        onCommitted();
      } catch (err) {
        state = 'aborted';
        await closeOnce();
        await rm(tmpPath, { force: true });
        throw storageError(err);
      }
      state = 'committed';
      return full;
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      // The descriptor stays open until dispose(): followers still reading get a clean error from the fill.
      await rm(tmpPath, { force: true });
    },
    async dispose() {
      if (state === 'open') {
        state = 'aborted';
        await closeOnce();
        await rm(tmpPath, { force: true });
        return;
      }
      await closeOnce();
    },
  };
}
