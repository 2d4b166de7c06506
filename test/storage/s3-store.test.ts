import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { encodeMeta } from '../../src/storage/s3/meta-codec.js';
import { presignGet } from '../../src/storage/s3/presign.js';
import { createS3Store } from '../../src/storage/s3/s3-store.js';
import { createS3Harness, drain, putVia, rawClient, sha256, TEST_BUCKET, TEST_CREDENTIALS } from '../fakes/s3-harness.js';
import { startS3Server, type S3Server } from '../fakes/s3-server.js';
import { storeConformance } from './store-conformance.js';

const MiB = 1024 * 1024;
const serverP = startS3Server({ buckets: [TEST_BUCKET] });
const h = createS3Harness(() => serverP);
const unavailable = (e: Error & { code?: string }): boolean => e.code === 'ERR_STORAGE_UNAVAILABLE';

after(async () => {
  await h.cleanup();
  await (await serverP).close();
});

storeConformance('s3', () => h.store());

void describe('s3 store specifics', () => {
  let server: S3Server;
  before(async () => {
    server = await serverP;
  });

  void it('uploads a large object in parts streamed from the spool and streams it back', async () => {
    const store = await h.store();
    const body = randomBytes(20 * MiB);
    server.resetCounts();
    const meta = await putVia(store, 'big/obj', body);
    assert.equal(meta.size, body.length);
    assert.equal(server.count('CreateMultipartUpload'), 1);
    assert.equal(server.count('UploadPart'), 3, '8 + 8 + 4 MiB');
    assert.equal(server.count('CompleteMultipartUpload'), 1);
    assert.equal(server.count('PutObject'), 0);
    assert.equal(server.openUploads(), 0);
    const opened = await store.open('big/obj');
    assert.ok(opened);
    const { body: got, chunks } = await drain(opened.body);
    assert.ok(got.equals(body));
    assert.ok(chunks > 1, 'the body arrives as a stream, not one buffer');
    const ranged = await store.open('big/obj', { start: 8 * MiB - 10, end: 8 * MiB + 9 });
    assert.ok(ranged);
    assert.ok((await drain(ranged.body)).body.equals(body.subarray(8 * MiB - 10, 8 * MiB + 10)), 'range across a part boundary');
  });

  void it('counts data without committed metadata as missing, and a commit replaces it', async () => {
    const store = await h.store();
    const raw = rawClient(server);
    const body = Buffer.from('crashed writer');
    await raw.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: store.objectKey('half/done'), Body: body }));
    const lying = encodeMeta({ size: 999, sha256: sha256(body), contentType: 'x', storedAt: 1 });
    await raw.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: store.objectKey('half/lying'), Body: body, Metadata: lying }));
    raw.destroy();
    for (const key of ['half/done', 'half/lying']) {
      assert.equal(await store.stat(key), undefined, key);
      assert.equal(await store.open(key), undefined, key);
      assert.equal(await store.read(key), undefined, key);
    }
    const listed = [];
    for await (const o of store.list('half/')) listed.push(o.key);
    assert.deepEqual(listed, []);
    await putVia(store, 'half/done', Buffer.from('whole'));
    assert.equal((await store.read('half/done'))?.body.toString(), 'whole');
  });

  void it('two replicas committing the same bytes end with one object both agree on', async () => {
    const a = await h.store();
    const b = await h.store({ prefix: a.objectKey('x').slice(0, -1) });
    const body = randomBytes(300_000);
    server.resetCounts();
    const [ma, mb] = await Promise.all([putVia(a, 'same/key', body), putVia(b, 'same/key', body)]);
    const final = await a.stat('same/key');
    assert.ok(final);
    assert.equal(ma.storedAt, final.storedAt, 'both commits report the object that is stored');
    assert.equal(mb.storedAt, final.storedAt);
    assert.equal(server.count('PutObject'), 2, 'the loser does not overwrite the identical copy');
  });

  void it('two replicas committing different large bodies end with one whole object', async () => {
    const a = await h.store();
    const b = await h.store({ prefix: a.objectKey('x').slice(0, -1) });
    const bodies = [randomBytes(9 * MiB), randomBytes(10 * MiB)];
    await Promise.all([putVia(a, 'race/big', bodies[0] ?? Buffer.alloc(0)), putVia(b, 'race/big', bodies[1] ?? Buffer.alloc(0))]);
    const got = await b.read('race/big');
    assert.ok(got);
    assert.equal(sha256(got.body), got.meta.sha256);
    assert.ok(bodies.some((x) => x.equals(got.body)));
    assert.equal(server.openUploads(), 0, 'no multipart upload left behind');
  });

  void it('a later commit of identical bytes replaces the old copy so freshness advances', async () => {
    const store = await h.store();
    const body = Buffer.from('index.json');
    await putVia(store, 'meta/index', body, { storedAt: Date.now() - 3600_000 });
    const now = Date.now();
    const meta = await putVia(store, 'meta/index', body, { storedAt: now });
    assert.equal(meta.storedAt, now);
    assert.equal((await store.stat('meta/index'))?.storedAt, now);
  });

  void it('falls back to last-writer-wins when the server does not implement conditional writes', async () => {
    const store = await h.store();
    server.setConditionalWrites('not-implemented');
    try {
      server.resetCounts();
      await putVia(store, 'nocond/a', Buffer.from('one'));
      assert.equal(server.count('PutObject'), 2, 'one refused conditional PUT, then a plain one');
      await putVia(store, 'nocond/a', Buffer.from('two'));
      assert.equal(server.count('PutObject'), 3, 'later commits go straight to plain PUTs');
      assert.equal((await store.read('nocond/a'))?.body.toString(), 'two');
      server.setConditionalWrites('ignored');
      await putVia(store, 'nocond/a', Buffer.from('three'));
      assert.equal((await store.read('nocond/a'))?.body.toString(), 'three');
    } finally {
      server.setConditionalWrites('supported');
    }
  });

  for (const fault of ['AccessDenied', 'SlowDown', 'NoSuchBucket'] as const) {
    void it(`reports ${fault} as ERR_STORAGE_UNAVAILABLE and recovers when it clears`, async () => {
      const store = await h.store({ client: await h.client({ maxAttempts: 2 }) });
      await putVia(store, 'f/there', Buffer.from('x'));
      const spoolDir = await h.spoolDir();
      server.setFault(fault);
      try {
        await assert.rejects(() => store.checkWritable(), unavailable);
        await assert.rejects(() => store.open('f/there'), unavailable);
        await assert.rejects(() => store.read('f/there'), unavailable);
        await assert.rejects(() => putVia(store, 'f/new', Buffer.from('y')), unavailable);
        await assert.rejects(async () => {
          for await (const _ of store.list('f/')) void _;
        }, unavailable);
        // HEAD answers have no body: a missing bucket looks like a missing object there (see s3-errors.ts).
        if (fault !== 'NoSuchBucket') await assert.rejects(() => store.stat('f/there'), unavailable);
        const fresh = createS3Store({ bucket: TEST_BUCKET, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS, spoolDir });
        await assert.rejects(() => fresh.init(), unavailable);
        await fresh.close();
      } finally {
        server.setFault(undefined);
      }
      await store.checkWritable();
      assert.equal((await store.read('f/there'))?.body.toString(), 'x');
      assert.equal(server.openUploads(), 0);
    });
  }

  void it('retries throttled requests, streamed uploads included', async () => {
    const store = await h.store();
    await putVia(store, 'slow/small', Buffer.from('s'));
    server.resetCounts();
    server.setFault('SlowDown', ['HeadObject'], 1);
    assert.equal((await store.stat('slow/small'))?.size, 1);
    assert.equal(server.count('HeadObject'), 2);
    server.setFault('SlowDown', ['PutObject'], 1);
    await putVia(store, 'slow/put', Buffer.from('p'));
    assert.equal(server.count('PutObject'), 2);
    server.setFault('SlowDown', ['UploadPart'], 1);
    const body = randomBytes(9 * MiB);
    await putVia(store, 'slow/parts', body);
    assert.equal(server.count('UploadPart'), 3, 'two parts, one of them sent twice');
    assert.ok((await store.read('slow/parts'))?.body.equals(body));
  });

  void it('reports an unreachable endpoint and a missing bucket as ERR_STORAGE_UNAVAILABLE', async () => {
    const gone = await startS3Server({ buckets: [TEST_BUCKET] });
    const endpoint = gone.endpoint;
    await gone.close();
    const dead = await h.store({ endpoint }).catch((e: unknown) => e);
    assert.ok(dead instanceof Error && unavailable(dead));
    const missing = await h.store({ bucket: 'no-such-bucket' }).catch((e: unknown) => e);
    assert.ok(missing instanceof Error && unavailable(missing));
  });

  void it('readAt follows a large upload while it is appended, and the spool is cleaned up', async () => {
    const spoolDir = await h.spoolDir();
    const store = await h.store({ spoolDir });
    const body = randomBytes(12 * MiB);
    const p = await store.create('follow/big');
    const step = 256 * 1024;
    for (let off = 0; off < body.length; off += step) {
      await p.append(body.subarray(off, off + step));
      const back = Buffer.from(await p.readAt(off, step * 2));
      assert.ok(back.equals(body.subarray(off, off + step)), `readAt at ${off} sees exactly what was appended`);
    }
    await p.commit({ sha256: sha256(body), contentType: 'application/zip', storedAt: Date.now() });
    assert.ok(Buffer.from(await p.readAt(body.length - 10, 10)).equals(body.subarray(-10)), 'readable after commit');
    await p.dispose();
    assert.deepEqual(await readdir(spoolDir), []);
    const aborted = await store.create('follow/aborted');
    await aborted.append(Buffer.from('partial'));
    await aborted.abort();
    await aborted.dispose();
    assert.deepEqual(await readdir(spoolDir), []);
    assert.equal(await store.stat('follow/aborted'), undefined);
  });

  void it('close cuts a running upload short and leaves no multipart upload behind', async () => {
    const spoolDir = await h.spoolDir();
    const store = await h.store({ spoolDir });
    const body = randomBytes(24 * MiB);
    const p = await store.create('closing/big');
    await p.append(body);
    const uploading = server.nextRequest('UploadPart');
    const commit = p.commit({ sha256: sha256(body), contentType: 'application/zip', storedAt: Date.now() });
    await uploading;
    await store.close();
    await assert.rejects(commit, unavailable);
    await p.dispose();
    assert.equal(server.openUploads(), 0);
    assert.deepEqual(await readdir(spoolDir), []);
    const other = await h.store({ prefix: store.objectKey('x').slice(0, -1) });
    assert.equal(await other.stat('closing/big'), undefined);
  });

  void it('init removes spool files of dead writers, keeps live ones and leaves foreign files alone', async () => {
    const spoolDir = await h.spoolDir();
    await mkdir(spoolDir, { recursive: true });
    const live = `${process.ppid}-zz-${'1'.repeat(16)}`;
    await writeFile(join(spoolDir, `999999999-zz-${'0'.repeat(16)}`), 'partial');
    await writeFile(join(spoolDir, live), 'live writer');
    await writeFile(join(spoolDir, 'notes.txt'), 'not ours');
    await h.store({ spoolDir });
    assert.deepEqual((await readdir(spoolDir)).sort(), [live, 'notes.txt']);
  });

  void it('refuses metadata that does not fit S3 user metadata, leaving nothing behind', async () => {
    const store = await h.store();
    const attrs = { big: 'x'.repeat(3000) };
    await assert.rejects(() => putVia(store, 'meta/huge', Buffer.from('b'), { attrs }), unavailable);
    assert.equal(await store.stat('meta/huge'), undefined);
  });

  void it('lists across pages', async () => {
    const store = await h.store();
    const raw = rawClient(server);
    const keys = Array.from({ length: 1003 }, (_, i) => `many/k${String(i).padStart(4, '0')}`);
    const meta = encodeMeta({ size: 1, sha256: sha256(Buffer.from('z')), contentType: 'x', storedAt: 5 });
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((k) => raw.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: store.objectKey(k), Body: Buffer.from('z'), Metadata: meta }))),
      );
    }
    raw.destroy();
    server.resetCounts();
    const listed: string[] = [];
    for await (const o of store.list('many/')) listed.push(o.key);
    assert.deepEqual(listed, keys);
    assert.equal(server.count('ListObjectsV2'), 2);
  });

  void it('works with a caller-supplied client using the SDK default aws-chunked checksum uploads', async () => {
    const client = rawClient(server, { requestChecksumCalculation: 'WHEN_SUPPORTED', responseChecksumValidation: 'WHEN_SUPPORTED' });
    const store = await h.store({ client });
    const body = randomBytes(10 * MiB);
    await putVia(store, 'chunked/obj', body);
    await putVia(store, 'chunked/small', Buffer.from('small'));
    assert.ok((await store.read('chunked/obj'))?.body.equals(body));
    assert.equal((await store.read('chunked/small'))?.body.toString(), 'small');
    await store.close();
    client.destroy();
  });

  void it('serves many concurrent downloads without warnings', async () => {
    const store = await h.store();
    const body = randomBytes(512 * 1024);
    await putVia(store, 'many/dl', body);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const opened = await Promise.all(Array.from({ length: 24 }, () => store.open('many/dl')));
      const bodies = await Promise.all(opened.map((o) => (o ? drain(o.body) : Promise.resolve(undefined))));
      assert.ok(bodies.every((b) => b?.body.equals(body)));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  void it('presigns GET URLs that fetch the object', async () => {
    const store = await h.store();
    await putVia(store, 'dl/pkg.zip', Buffer.from('zip bytes'));
    const url = await presignGet(store, 'dl/pkg.zip', 900);
    assert.match(url, /X-Amz-Signature=/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'zip bytes');
  });
});

void describe('s3 store: renew', () => {
  void it('renews with one CopyObject inside S3: no body is uploaded again', async () => {
    const server = await serverP;
    const store = await h.store();
    const body = randomBytes(12 * MiB);
    await putVia(store, 'renew/big', body);
    server.resetCounts();
    const meta = await store.renew?.('renew/big', { storedAt: 42, etag: '"e"' });
    assert.equal(meta?.storedAt, 42);
    assert.equal(server.count('CopyObject'), 1);
    assert.equal(server.count('PutObject') + server.count('UploadPart') + server.count('CreateMultipartUpload'), 0, 'no body transfer');
    const got = await store.read('renew/big');
    assert.ok(got?.body.equals(body));
    assert.equal(got?.meta.etag, '"e"');
  });
});
