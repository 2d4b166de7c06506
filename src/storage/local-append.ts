/**
 * Appending to and reading back from a local file at explicit positions:
 * what every PendingObject does with its temp or spool file, so followers
 * can read bytes while later ones are still being written.
 */
import type { FileHandle } from 'node:fs/promises';
import type { RegcacheError } from '../core/errors.js';

/** Positional append / read-back over one open file handle. */
export interface LocalAppend {
  readonly written: number;
  append(chunk: Uint8Array): Promise<void>;
  readAt(position: number, length: number, into?: Buffer): Promise<Uint8Array>;
}

/** Wraps `fh` (opened for read and write, empty). */
export function createLocalAppend(fh: FileHandle, storageError: (err: unknown) => RegcacheError): LocalAppend {
  let written = 0;
  return {
    get written() {
      return written;
    },
    async append(chunk) {
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
    async readAt(position, length, into) {
      const n = Math.max(0, Math.min(length, written - position, into?.length ?? length));
      const buf = into ?? Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const { bytesRead } = await fh.read(buf, off, n - off, position + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === buf.length ? buf : buf.subarray(0, off);
    },
  };
}
