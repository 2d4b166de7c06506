/**
 * A pending S3 object: bytes go to a local spool file (followers `readAt`
 * from it while a fill downloads); `commit` uploads the spool with the
 * metadata in one step. The spool file is removed on abort, failure or
 * dispose; its descriptor stays open until dispose so followers that are
 * still reading get a clean error from the fill rather than EBADF.
 */
import { rm } from 'node:fs/promises';
import { createLocalAppend } from '../local-append.js';
import type { RegcacheError } from '../../core/errors.js';
import type { ObjectMeta, PendingObject } from '../../core/store.js';
import type { SpoolFile } from './spool.js';

/** Uploads the spool with the full meta; returns the meta now stored. */
export type CommitFn = (path: string, meta: ObjectMeta) => Promise<ObjectMeta>;

/** Wraps a spool file as a PendingObject. */
export function createS3Pending(spool: SpoolFile, commitFn: CommitFn, storageError: (err: unknown) => RegcacheError): PendingObject {
  const { fh, path } = spool;
  const file = createLocalAppend(fh, storageError);
  let state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  let closed = false;
  let removed = false;
  let committing: Promise<unknown> | undefined;
  const closeOnce = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => undefined);
  };
  const removeOnce = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await rm(path, { force: true }).catch(() => undefined);
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
      state = 'committing';
      const upload = commitFn(path, { ...meta, size: file.written });
      committing = upload;
      try {
        const stored = await upload;
        state = 'committed';
        return stored;
      } catch (err) {
        state = 'aborted';
        await removeOnce();
        throw storageError(err);
      }
    },

    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await removeOnce();
    },

    async dispose() {
      // The upload streams from the spool path: never pull it away mid-commit.
      if (state === 'committing') await committing?.catch(() => undefined);
      if (state === 'open') state = 'aborted';
      await closeOnce();
      await removeOnce();
    },
  };
}
