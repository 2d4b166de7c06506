/**
 * One-off measurement: throughput of reading a warm 50 MiB object through
 * Store.open() from the fake S3 server vs the fs store, on this machine.
 * Run: npm run build && node dist/bench/s3-read.js [MiB] [rounds]
 * Also prints the write+commit rate (the S3 upload runs at commit).
 * Not a test (no assertions on time); prints one line per store.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore } from '../src/storage/fs/fs-store.js';
import type { Store } from '../src/core/store.js';
import { createS3Harness, drain, putVia, TEST_BUCKET } from '../test/fakes/s3-harness.js';
import { startS3Server } from '../test/fakes/s3-server.js';

const MiB = 1024 * 1024;

async function measure(name: string, store: Store, body: Buffer, rounds: number): Promise<void> {
  const w0 = process.hrtime.bigint();
  await putVia(store, 'bench/warm.zip', body);
  const writeS = Number(process.hrtime.bigint() - w0) / 1e9;
  const warm = await store.open('bench/warm.zip');
  if (!warm) throw new Error('object missing');
  await drain(warm.body);
  const rates: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    const o = await store.open('bench/warm.zip');
    if (!o) throw new Error('object missing');
    let n = 0;
    for await (const chunk of o.body) n += (chunk as Buffer).length;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (n !== body.length) throw new Error(`short read: ${n}`);
    rates.push(body.length / MiB / s);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] ?? 0;
  console.log(`${name.padEnd(4)} open() ${body.length / MiB} MiB x${rounds}: median ${median.toFixed(0)} MiB/s (min ${(rates[0] ?? 0).toFixed(0)}, max ${(rates[rates.length - 1] ?? 0).toFixed(0)}); write+commit ${(body.length / MiB / writeS).toFixed(0)} MiB/s`);
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 50) * MiB;
  const rounds = Number(process.argv[3] ?? 7);
  const body = randomBytes(size);
  const fsRoot = await mkdtemp(join(tmpdir(), 'regcache-bench-fs-'));
  const server = await startS3Server({ buckets: [TEST_BUCKET] });
  const h = createS3Harness(() => Promise.resolve(server));
  try {
    const fsStore = createFsStore({ root: fsRoot });
    await fsStore.init();
    await measure('fs', fsStore, body, rounds);
    await measure('s3', await h.store(), body, rounds);
  } finally {
    await h.cleanup();
    await server.close();
    await rm(fsRoot, { recursive: true, force: true });
  }
}

await main();
