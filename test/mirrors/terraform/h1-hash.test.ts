import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chunkPool, CHUNK_SIZE } from '../../../src/core/buffer-pool.js';
import { RegcacheError } from '../../../src/core/errors.js';
import { h1FromStoredZip } from '../../../src/mirrors/terraform/h1-store.js';
import { h1FromZipFile, sha256Hex, zhFromSha256Hex } from '../../../src/mirrors/terraform/h1-hash.js';
import {
  makeProviderZip,
  makeZip,
  providerExecutableContent,
  providerExecutableName,
} from '../../support/provider-fixtures.js';
import { fsStoreFixtures, putObject } from '../../support/store-objects.js';
import { buildZip, lyingSizeBomb, manyZerosZip, overlapBomb, zerosDeflate } from '../../support/zip-bombs.js';
import { DEFAULT_INFLATE_LIMITS, type InflateLimits } from '../../../src/core/inflate-limits.js';
import { createStoredZipHasher } from '../../../src/mirrors/terraform/h1-store.js';

/** Hash1 written out directly from known contents, independent of any zip reader. */
function expectedH1(files: Array<{ name: string; content: Buffer }>): string {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const summary = sorted
    .map((f) => `${createHash('sha256').update(f.content).digest('hex')}  ${f.name}\n`)
    .join('');
  return `h1:${createHash('sha256').update(summary).digest('base64')}`;
}

function hasCode(code: string): (err: unknown) => boolean {
  return (err) => err instanceof RegcacheError && err.code === code;
}

void describe('h1FromZipFile', () => {
  let dir = '';
  let counter = 0;
  const writeZip = async (bytes: Buffer): Promise<string> => {
    counter += 1;
    const path = join(dir, `z${counter}.zip`);
    await writeFile(path, bytes);
    return path;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regcache-h1-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('matches the dirhash test vector', async () => {
    const zip = await makeZip([
      { name: 'xyz', content: Buffer.from('data for xyz') },
      { name: 'abc', content: Buffer.from('data for abc') },
    ]);
    assert.equal(await h1FromZipFile(await writeZip(zip)), 'h1:EP6WfDoQTSk9klnxcjriWJOGztueJUywHNmWeq+efB8=');
  });

  void it('hashes a provider zip like an independent computation', async () => {
    const opts = { type: 'random', version: '3.6.0', os: 'linux', arch: 'amd64' };
    const path = await writeZip(await makeProviderZip(opts));
    const content = providerExecutableContent(opts);
    const expected = expectedH1([{ name: providerExecutableName(opts.type, opts.version), content }]);
    assert.equal(await h1FromZipFile(path), expected);
  });

  void it('streams a large provider zip', async () => {
    const opts = { type: 'big', version: '1.0.0', os: 'darwin', arch: 'arm64', extraBytes: 5 * 1024 * 1024 };
    const zip = await makeProviderZip(opts);
    assert.deepEqual(zip, await makeProviderZip(opts), 'fixture is deterministic');
    const expected = expectedH1([
      { name: providerExecutableName(opts.type, opts.version), content: providerExecutableContent(opts) },
    ]);
    assert.equal(await h1FromZipFile(await writeZip(zip)), expected);
  });

  // Terraform hashes the unpacked package (dirhash.HashDir): directory
  // entries leave no line, and a repeated name is one file with the last
  // bytes. Both expectations were checked against `terraform providers lock`.
  void it('leaves directory entries out', async () => {
    const zip = await makeZip([
      { name: 'docs/', content: null },
      { name: 'docs/readme.txt', content: Buffer.from('hello\n') },
      { name: 'empty/', content: null },
      { name: 'bin', content: Buffer.from('binary') },
    ]);
    const expected = expectedH1([
      { name: 'docs/readme.txt', content: Buffer.from('hello\n') },
      { name: 'bin', content: Buffer.from('binary') },
    ]);
    assert.equal(await h1FromZipFile(await writeZip(zip)), expected);
  });

  void it('matches the hash terraform 1.11 recorded for a zip with a directory', async () => {
    const zip = await makeZip([
      { name: 'terraform-provider-thing_v1.0.0', content: Buffer.from('#!/bin/sh\n') },
      { name: 'docs/', content: null },
      { name: 'docs/README é.md', content: Buffer.from('hi') },
      { name: 'B', content: Buffer.from('upper'), compress: false },
      { name: 'a', content: Buffer.alloc(0) },
    ]);
    assert.equal(await h1FromZipFile(await writeZip(zip)), 'h1:owTuKePXv9nbcy46RaswxJ5NtDtxjh+O9Ll40aZoahk=');
  });

  void it('treats an entry with directory mode bits as a directory', async () => {
    const zip = await makeZip([
      { name: 'terraform-provider-dmode_v1.0.0', content: Buffer.from('real'), mode: 0o100755 },
      { name: 'd', content: Buffer.alloc(0), mode: 0o040755 },
      { name: 'd/f', content: Buffer.from('in d'), mode: 0o100644 },
    ]);
    assert.equal(await h1FromZipFile(await writeZip(zip)), 'h1:RtfqZDEuK8ZiU+A48HnIVXQjC6FuKd8GKlJAAdATJlY=');
  });

  void it('sorts many entries byte-wise, beyond the concurrency bound', async () => {
    const files = ['b', 'B', 'a', 'é', 'z/y', 'Z', '_', 'a.b', 'ab', 'a-b', '0', 'émoji-🙂', 'x', 'w']
      .map((name, i) => ({ name, content: Buffer.from(`content ${i} `.repeat(i * 1000)) }));
    const zip = await makeZip(files);
    assert.equal(await h1FromZipFile(await writeZip(zip)), expectedH1(files));
  });

  void it('hashes a repeated name once, with the last entry', async () => {
    const zip = await makeZip([
      { name: 'terraform-provider-dup_v1.0.0', content: Buffer.from('first') },
      { name: 'other', content: Buffer.from('o') },
      { name: 'terraform-provider-dup_v1.0.0', content: Buffer.from('second') },
    ]);
    const expected = expectedH1([
      { name: 'terraform-provider-dup_v1.0.0', content: Buffer.from('second') },
      { name: 'other', content: Buffer.from('o') },
    ]);
    assert.equal(expected, 'h1:1JLvJEzw5yxfWcEbxollgSeTsXn5d376sVZkjzq072Y=', 'value terraform 1.11 recorded');
    assert.equal(await h1FromZipFile(await writeZip(zip)), expected);
  });

  void it('rejects names containing a newline', async () => {
    const zip = await makeZip([
      { name: 'ok', content: Buffer.from('x') },
      { name: 'bad\nname', content: Buffer.from('y') },
    ]);
    await assert.rejects(h1FromZipFile(await writeZip(zip)), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
  });

  void it('rejects bytes that are not a zip', async () => {
    const path = await writeZip(Buffer.from('this is not a zip file at all, just text'));
    await assert.rejects(h1FromZipFile(path), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
  });

  void it('rejects a truncated zip', async () => {
    const zip = await makeProviderZip({ type: 't', version: '1.0.0', os: 'linux', arch: 'amd64' });
    const path = await writeZip(zip.subarray(0, zip.length - 10));
    await assert.rejects(h1FromZipFile(path), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
  });

  void it('rejects stored entry data that fails its CRC-32', async () => {
    const content = Buffer.from('stored content that will be corrupted');
    const zip = await makeZip([{ name: 'file', content, compress: false }]);
    const at = zip.indexOf(content);
    assert.ok(at > 0);
    const damaged = Buffer.from(zip);
    damaged[at + 3] = (damaged[at + 3] ?? 0) ^ 0x01;
    await assert.rejects(h1FromZipFile(await writeZip(damaged)), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
  });

  void it('rejects deflated entry data that is damaged', async () => {
    const opts = { type: 't', version: '1.0.0', os: 'linux', arch: 'amd64', extraBytes: 4096 };
    const zip = await makeProviderZip(opts);
    const damaged = Buffer.from(zip);
    const at = 30 + providerExecutableName(opts.type, opts.version).length + 100;
    damaged[at] = (damaged[at] ?? 0) ^ 0x55;
    await assert.rejects(h1FromZipFile(await writeZip(damaged)), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
  });

  /** A copy of a one-entry zip with a field of both its local and central headers changed. */
  const patchHeaders = (zip: Buffer, localOffset: number, centralOffset: number, write: (b: Buffer, at: number) => void): Buffer => {
    const out = Buffer.from(zip);
    const local = out.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    const central = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    assert.ok(local >= 0 && central > local);
    write(out, local + localOffset);
    write(out, central + centralOffset);
    return out;
  };

  void it('rejects an entry compressed with a method other than stored or deflate', async () => {
    const zip = await makeZip([{ name: 'file', content: Buffer.from('some content, some content, some content') }]);
    const bzip2 = patchHeaders(zip, 8, 10, (b, at) => b.writeUInt16LE(12, at));
    await assert.rejects(h1FromZipFile(await writeZip(bzip2)), (e: unknown) => hasCode('ERR_UPSTREAM_BAD_RESPONSE')(e) && /compression method 12/.test((e as Error).message));
  });

  void it('rejects a deflated entry whose inflated size differs from its directory entry', async () => {
    const content = Buffer.from('deflated content '.repeat(100));
    const zip = await makeZip([{ name: 'file', content }]);
    const bigger = patchHeaders(zip, 22, 24, (b, at) => b.writeUInt32LE(content.length + 1, at));
    await assert.rejects(h1FromZipFile(await writeZip(bigger)), (e: unknown) => hasCode('ERR_UPSTREAM_BAD_RESPONSE')(e) && /size differs/.test((e as Error).message));
  });

  void it('reports a missing file as a storage error', async () => {
    await assert.rejects(h1FromZipFile(join(dir, 'missing.zip')), hasCode('ERR_STORAGE_UNAVAILABLE'));
  });

  const refused = (pattern: RegExp) => (e: unknown) => hasCode('ERR_UPSTREAM_BAD_RESPONSE')(e) && pattern.test((e as Error).message);
  const MiB = 1024 * 1024;
  const limits = (over: Partial<InflateLimits>): InflateLimits => ({ ...DEFAULT_INFLATE_LIMITS, ...over });

  void it('refuses directory entries that share compressed data (overlap bomb)', async () => {
    // 64 names for one 1 MiB kernel: within every size and ratio limit, but 64 MiB inflated from 5 KiB.
    await assert.rejects(h1FromZipFile(await writeZip(overlapBomb(MiB, 64))), refused(/overlap/));
  });

  void it('refuses an entry whose local header starts inside another entry\'s data', async () => {
    const a = { name: 'a', data: Buffer.from('aaaa'), uncompressedSize: 4, crc32: 0, method: 'store' as const };
    const b = { name: 'b', data: Buffer.from('bbbb'), uncompressedSize: 4, crc32: 0, method: 'store' as const };
    const zip = buildZip([a, b]);
    // Point b's directory record 2 bytes into a's data: its local header then overlaps a.
    const bOffset = 30 + 1 + 4;
    const shifted = buildZip([a, b], [{ name: 'a', blob: 0 }, { name: 'b', blob: 1, offset: bOffset - 2 }]);
    assert.notDeepEqual(zip, shifted);
    await assert.rejects(h1FromZipFile(await writeZip(shifted)), refused(/overlap/));
  });

  void it('refuses an entry outside the entries area (out of bounds)', async () => {
    const a = { name: 'a', data: Buffer.from('aaaa'), uncompressedSize: 4, crc32: 0, method: 'store' as const };
    const zip = buildZip([a], [{ name: 'a', blob: 0, offset: 20 }]);
    await assert.rejects(h1FromZipFile(await writeZip(zip)), refused(/out of bounds/));
  });

  void it('refuses a ratio over the limit from the directory, before inflating', async () => {
    const zip = manyZerosZip(1, 8 * MiB, 1);
    await assert.rejects(h1FromZipFile(await writeZip(zip)), refused(/ratio \d+:1 is over the limit of 1000:1/));
    assert.match(await h1FromZipFile(await writeZip(zip), { limits: limits({ maxRatio: 2000 }) }), /^h1:/, 'a higher limit lets it through');
  });

  void it('refuses more declared bytes than the total limit', async () => {
    const zip = manyZerosZip(3, MiB, 1);
    await assert.rejects(h1FromZipFile(await writeZip(zip), { limits: limits({ maxInflatedBytes: 2 * MiB }) }), refused(/more than 2 MiB/));
  });

  void it('stops inflating an entry at its declared size', async () => {
    await assert.rejects(h1FromZipFile(await writeZip(lyingSizeBomb(64 * MiB, 1024))), refused(/inflates past its declared size of 1024 bytes/));
  });

  void it('refuses more entries than the limit', async () => {
    const zip = await makeZip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, content: Buffer.from('x') })));
    await assert.rejects(h1FromZipFile(await writeZip(zip), { limits: limits({ maxEntries: 4 }) }), refused(/5 entries/));
  });

  void it('stops when its signal fires, with the reason', async () => {
    const path = await writeZip(manyZerosZip(2, 64 * MiB, 8));
    const controller = new AbortController();
    const hashing = h1FromZipFile(path, { limits: limits({ maxRatio: 2000 }), signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(hashing, hasCode('ERR_SHUTTING_DOWN'));
  });

  void it('hashes real deflate output made of flushed segments (the bomb builder is sound)', async () => {
    const data = zerosDeflate(MiB, 3);
    const zip = buildZip([{ name: 'z', data, uncompressedSize: 3 * MiB, crc32: 0 }]);
    const h1 = await h1FromZipFile(await writeZip(zip), { limits: limits({ maxRatio: 2000 }) });
    assert.equal(h1, expectedH1([{ name: 'z', content: Buffer.alloc(3 * MiB) }]));
  });
});

void describe('zhFromSha256Hex and sha256Hex', () => {
  void it('formats the legacy zh hash', () => {
    const hex = sha256Hex(Buffer.from('abc'));
    assert.equal(hex, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(zhFromSha256Hex(hex), `zh:${hex}`);
  });

  void it('rejects anything but 64 lowercase hex digits', () => {
    for (const bad of ['', 'abc', 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD', `${'0'.repeat(63)}g`]) {
      assert.throws(() => zhFromSha256Hex(bad), hasCode('ERR_UPSTREAM_BAD_RESPONSE'));
    }
  });
});

void describe('h1FromStoredZip', () => {
  const { freshStore } = fsStoreFixtures('regcache-h1-store-');

  void it('remembers a zip that failed, per stored content, and hashes it again once it changed', async () => {
    const store = await freshStore();
    const hasher = createStoredZipHasher(store, { limits: DEFAULT_INFLATE_LIMITS, failureTtlMs: 60_000 });
    await putObject(store, 'z/bomb.zip', overlapBomb(1024 * 1024, 16));
    await assert.rejects(hasher.h1('z/bomb.zip'), (e: unknown) => /overlap/.test((e as Error).message) && !/earlier/.test((e as Error).message));
    await assert.rejects(hasher.h1('z/bomb.zip'), (e: unknown) => hasCode('ERR_UPSTREAM_BAD_RESPONSE')(e) && /overlap.*failed earlier/.test((e as Error).message));
    const good = await makeZip([{ name: 'f', content: Buffer.from('fine') }]);
    await putObject(store, 'z/bomb.zip', good);
    assert.equal(await hasher.h1('z/bomb.zip'), expectedH1([{ name: 'f', content: Buffer.from('fine') }]), 'new bytes under the same key are hashed');
  });

  void it('hashes a stored zip like the file on disk, and hands every chunk it read back to the pool', async () => {
    const store = await freshStore();
    const opts = { type: 'pooled', version: '1.0.0', os: 'linux', arch: 'amd64', extraBytes: 4 * 1024 * 1024 };
    const zip = await makeProviderZip(opts);
    await putObject(store, 'z/pooled.zip', zip);
    const expected = expectedH1([{ name: providerExecutableName(opts.type, opts.version), content: providerExecutableContent(opts) }]);
    // Count full-size buffers taken from and given back to the pool while hashing.
    const take = chunkPool.take.bind(chunkPool);
    const give = chunkPool.give.bind(chunkPool);
    let taken = 0;
    let given = 0;
    chunkPool.take = () => {
      taken++;
      return take();
    };
    chunkPool.give = (buf: Buffer) => {
      given++;
      give(buf);
    };
    try {
      assert.equal(await h1FromStoredZip(store, 'z/pooled.zip'), expected);
    } finally {
      chunkPool.take = take;
      chunkPool.give = give;
    }
    assert.ok(taken >= zip.length / CHUNK_SIZE, `read the zip in pooled chunks (${taken})`);
    // Every chunk of entry data comes back; only the few small reads yauzl keeps (central
    // directory, local header) are left to the GC.
    const dataChunks = Math.floor(zip.length / CHUNK_SIZE);
    assert.ok(given >= dataChunks, `chunks handed back: ${given} of ${taken} (${dataChunks} of entry data)`);
  });
});
