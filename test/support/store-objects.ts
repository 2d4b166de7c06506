/**
 * Store test helpers: committing an object in one call, and fs stores on
 * fresh temporary roots that are closed (they keep descriptors open) and
 * removed when the test file is done.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createFsStore, type FsStoreOptions } from '../../src/storage/fs/fs-store.js';
import type { ObjectMeta, Store } from '../../src/core/store.js';

/** Stores `bytes` under `key` as a committed object (sha256 computed, storedAt now unless given). */
export async function putObject(store: Store, key: string, bytes: Buffer, meta: Partial<Pick<ObjectMeta, 'contentType' | 'storedAt' | 'attrs'>> = {}): Promise<void> {
  const p = await store.create(key);
  await p.append(bytes);
  await p.commit({
    sha256: createHash('sha256').update(bytes).digest('hex'),
    contentType: meta.contentType ?? 'application/zip',
    storedAt: meta.storedAt ?? Date.now(),
    ...(meta.attrs ? { attrs: meta.attrs } : {}),
  });
  await p.dispose();
}

/** Fresh roots and initialised fs stores for one test file, cleaned up after it. */
export function fsStoreFixtures(prefix: string): {
  freshRoot: () => Promise<string>;
  storeOn: (root: string, opts?: Omit<FsStoreOptions, 'root'>) => Promise<Store>;
  freshStore: (opts?: Omit<FsStoreOptions, 'root'>) => Promise<Store>;
} {
  const roots: string[] = [];
  const stores: Store[] = [];
  after(async () => {
    for (const s of stores) await s.close();
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });
  const freshRoot = async (): Promise<string> => {
    const r = await mkdtemp(join(tmpdir(), prefix));
    roots.push(r);
    return r;
  };
  const storeOn = async (root: string, opts: Omit<FsStoreOptions, 'root'> = {}): Promise<Store> => {
    const s = createFsStore({ root, ...opts });
    await s.init();
    stores.push(s);
    return s;
  };
  return { freshRoot, storeOn, freshStore: async (opts = {}) => storeOn(await freshRoot(), opts) };
}
