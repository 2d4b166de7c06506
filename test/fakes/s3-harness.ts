/**
 * Test wiring for the S3 store: stores on the fake S3 server with explicit
 * test credentials (the default AWS chain would probe the network), each
 * with its own spool dir, all closed and removed by `cleanup`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Store, type S3Store, type S3StoreOptions } from '../../src/storage/s3/s3-store.js';
import type { ObjectMeta, Store } from '../../src/core/store.js';
import type { S3Server } from './s3-server.js';

// The SDK warns once per process that its 2027 releases drop Node 20; tests need not repeat it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const TEST_BUCKET = 'regcache-test';
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDREGCACHETEST', secretAccessKey: 'regcache-test-secret' };

/** regcache's `storage:` section for the test bucket on `endpoint` under `prefix`, with local files in `path`. */
export function s3Storage(path: string, endpoint: string, prefix: string): Record<string, unknown> {
  return { path, type: 's3', s3: { bucket: TEST_BUCKET, prefix, region: 'us-east-1', endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS } };
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A raw SDK client for the fake server, for arranging what the store then sees. */
export function rawClient(server: S3Server, extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...extra,
  });
}

/** Creates S3 stores against one server and tears them all down. */
export interface S3Harness {
  /** An initialised store; a fresh prefix unless `prefix` is given. */
  store(opts?: Partial<S3StoreOptions>): Promise<S3Store>;
  spoolDir(): Promise<string>;
  /** A raw client destroyed by cleanup (e.g. with fewer retries, for fault tests). */
  client(extra?: Partial<ConstructorParameters<typeof S3Client>[0]>): Promise<S3Client>;
  cleanup(): Promise<void>;
}

export function createS3Harness(server: () => Promise<S3Server>): S3Harness {
  const stores: Store[] = [];
  const dirs: string[] = [];
  const clients: S3Client[] = [];
  let n = 0;
  const spoolDir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'regcache-s3spool-'));
    dirs.push(d);
    return d;
  };
  return {
    spoolDir,
    async client(extra = {}) {
      const c = rawClient(await server(), extra);
      clients.push(c);
      return c;
    },
    async store(opts = {}) {
      const s3 = await server();
      const store = createS3Store({
        bucket: TEST_BUCKET,
        prefix: `t${process.pid}-${++n}/`,
        region: 'us-east-1',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: TEST_CREDENTIALS,
        spoolDir: await spoolDir(),
        ...opts,
      });
      stores.push(store);
      await store.init();
      return store;
    },
    async cleanup() {
      for (const s of stores) await s.close();
      for (const c of clients) c.destroy();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}

/** Writes `body` through the store in `chunk`-sized appends and commits it. */
export async function putVia(
  store: Store,
  key: string,
  body: Buffer,
  opts: { storedAt?: number; attrs?: Record<string, string>; chunk?: number } = {},
): Promise<ObjectMeta> {
  const p = await store.create(key);
  try {
    const step = opts.chunk ?? 1024 * 1024;
    for (let off = 0; off < body.length; off += step) await p.append(body.subarray(off, off + step));
    return await p.commit({
      sha256: sha256(body),
      contentType: 'application/octet-stream',
      storedAt: opts.storedAt ?? Date.now(),
      ...(opts.attrs ? { attrs: opts.attrs } : {}),
    });
  } finally {
    await p.dispose();
  }
}

/** Drains a stream, counting its chunks. */
export async function drain(stream: NodeJS.ReadableStream): Promise<{ body: Buffer; chunks: number }> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return { body: Buffer.concat(parts), chunks: parts.length };
}
