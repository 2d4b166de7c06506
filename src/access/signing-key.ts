/**
 * The HMAC key for signed artifact URLs: from configuration when given
 * (several replicas must share it), else generated once into the storage
 * directory with mode 0600 and reused across restarts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Loads or creates the URL signing key. */
export async function loadSigningKey(configured: string | undefined, file: string): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'utf8');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 64) return Buffer.from(existing, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('hex');
  try {
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return Buffer.from(key, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'utf8');
  }
}
