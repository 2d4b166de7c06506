/**
 * A pending S3 object: bytes go to a local spool file (followers `readAt`
 * from it while a fill downloads); `commit` uploads the spool with the
 * metadata in one step. The spool file is removed on abort, failure or
 * dispose; its descriptor stays open until dispose so followers that are
 * still reading get a clean error from the fill rather than EBADF.
 */
import { rm } from 'node:fs/promises';
import type { RegcacheError } from '../../core/errors.js';
import type { ObjectMeta, PendingObject } from '../store.js';
import type { SpoolFile } from './spool.js';

/** Uploads the spool with the full meta; returns the meta now stored. */
export type CommitFn = (path: string, meta: ObjectMeta) => Promise<ObjectMeta>;

/** Wraps a spool file as a PendingObject. */
export function createS3Pending(spool: SpoolFile, commitFn: CommitFn, storageError: (err: unknown) => RegcacheError): PendingObject {
  const { fh, path } = spool;
  let written = 0;
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
      return written;
    },

    async append(chunk) {
      if (state !== 'open') throw new Error('append after commit/abort');
      let off = 0;
      try {
        while (off < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, written);
          off += bytesWritten;
          written += bytesWritten;
        }
      } catch (err) {
        throw storageError(err);
      }
    },

    async readAt(position, length) {
      const n = Math.max(0, Math.min(length, written - position));
      const buf = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const { bytesRead } = await fh.read(buf, off, n - off, position + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === n ? buf : buf.subarray(0, off);
    },

    async commit(meta) {
      if (state !== 'open') throw new Error('commit after commit/abort');
      state = 'committing';
      const upload = commitFn(path, { ...meta, size: written });
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
