/**
 * One conformance suite for every Store backend: run it unchanged against
 * each implementation (fs now, s3 later).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Store } from '../../src/core/store.js';
import { putObject } from '../support/store-objects.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function put(store: Store, key: string, body: Buffer, attrs?: Record<string, string>): Promise<void> {
  return putObject(store, key, body, { contentType: 'application/octet-stream', ...(attrs ? { attrs } : {}) });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Registers the suite for one backend; `make` returns a fresh, initialised store. */
export function storeConformance(name: string, makeStore: () => Promise<Store>): void {
  void describe(`Store conformance: ${name}`, () => {
    // Every store made is closed at the end (stores may keep descriptors or connections open).
    const made: Store[] = [];
    const make = async (): Promise<Store> => {
      const store = await makeStore();
      made.push(store);
      return store;
    };
    after(async () => {
      for (const store of made) await store.close();
    });
    void it('commits atomically: nothing visible before commit, everything after', async () => {
      const store = await make();
      const p = await store.create('a/b/obj');
      await p.append(Buffer.from('hello '));
      assert.equal(await store.stat('a/b/obj'), undefined);
      assert.equal(await store.open('a/b/obj'), undefined);
      await p.append(Buffer.from('world'));
      const meta = await p.commit({ sha256: sha(Buffer.from('hello world')), contentType: 'text/plain', storedAt: 1, attrs: { k: 'v' } });
      await p.dispose();
      assert.equal(meta.size, 11);
      const got = await store.read('a/b/obj');
      assert.equal(got?.body.toString(), 'hello world');
      assert.deepEqual(got?.meta.attrs, { k: 'v' });
      assert.equal(got?.meta.contentType, 'text/plain');
    });

    void it('abort leaves nothing behind', async () => {
      const store = await make();
      const p = await store.create('x/aborted');
      await p.append(Buffer.alloc(1000, 1));
      await p.abort();
      await p.dispose();
      assert.equal(await store.stat('x/aborted'), undefined);
      const listed = [];
      for await (const o of store.list('x/')) listed.push(o);
      assert.deepEqual(listed, []);
    });

    void it('readAt follows bytes while they are written', async () => {
      const store = await make();
      const p = await store.create('f/follow');
      await p.append(Buffer.from('abcdef'));
      assert.equal(Buffer.from(await p.readAt(2, 3)).toString(), 'cde');
      assert.equal(Buffer.from(await p.readAt(4, 100)).toString(), 'ef');
      await p.append(Buffer.from('gh'));
      assert.equal(p.written, 8);
      await p.commit({ sha256: sha(Buffer.from('abcdefgh')), contentType: 'x', storedAt: 1 });
      assert.equal(Buffer.from(await p.readAt(6, 2)).toString(), 'gh', 'readable after commit until dispose');
      await p.dispose();
    });

    void it('range reads', async () => {
      const store = await make();
      const body = Buffer.from('0123456789');
      await put(store, 'r/range', body);
      const o = await store.open('r/range', { start: 3, end: 6 });
      assert.ok(o);
      assert.equal((await readAll(o.body)).toString(), '3456');
      const all = await store.open('r/range');
      assert.ok(all);
      assert.equal((await readAll(all.body)).toString(), '0123456789');
      const past = await store.open('r/range', { start: 5, end: 100 });
      assert.ok(past);
      assert.equal((await readAll(past.body)).toString(), '56789', 'a range past the end stops at the body');
    });

    void it('concurrent commits of one key end with one whole object', async () => {
      const store = await make();
      const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(50_000 + i * 1000, i + 1));
      await Promise.all(bodies.map((b) => put(store, 'c/same', b)));
      const got = await store.read('c/same');
      assert.ok(got);
      assert.equal(sha(got.body), got.meta.sha256, 'body matches its own metadata');
      assert.ok(bodies.some((b) => b.equals(got.body)));
    });

    void it('lists by prefix and deletes', async () => {
      const store = await make();
      await put(store, 'l/one/a', Buffer.from('1'));
      await put(store, 'l/one/b', Buffer.from('22'));
      await put(store, 'l/two/c', Buffer.from('333'));
      const keys: string[] = [];
      for await (const o of store.list('l/one/')) keys.push(o.key);
      assert.deepEqual(keys.sort(), ['l/one/a', 'l/one/b']);
      assert.equal(await store.delete('l/one/a'), true);
      assert.equal(await store.delete('l/one/a'), false);
      assert.equal(await store.stat('l/one/a'), undefined);
    });

    void it('refuses hostile keys before touching the backend', async () => {
      const store = await make();
      for (const key of ['../etc/passwd', 'a/../../b', '/abs', 'a//b', 'a/./b', 'a\\b', 'a/b\u0000c', '', 'a/.hidden', 'x'.repeat(300)]) {
        await assert.rejects(() => store.create(key), /invalid cache key/, key);
        await assert.rejects(() => store.stat(key), /invalid cache key/, key);
      }
    });

    void it('is writable when healthy', async () => {
      const store = await make();
      await store.checkWritable();
    });

    void it('commits and reads an empty object', async () => {
      const store = await make();
      await put(store, 'e/empty', Buffer.alloc(0));
      const got = await store.read('e/empty');
      assert.equal(got?.meta.size, 0);
      assert.equal(got?.body.length, 0);
      const o = await store.open('e/empty');
      assert.ok(o);
      assert.equal((await readAll(o.body)).length, 0);
    });

    void it('a later commit replaces the object, identical bytes included (storedAt advances)', async () => {
      const store = await make();
      const write = async (body: string, storedAt: number): Promise<void> => {
        const p = await store.create('v/doc');
        await p.append(Buffer.from(body));
        await p.commit({ sha256: sha(Buffer.from(body)), contentType: 'application/json', storedAt });
        await p.dispose();
      };
      await write('{"v":1}', 1000);
      await write('{"v":2}', 2000);
      assert.equal((await store.read('v/doc'))?.body.toString(), '{"v":2}');
      await write('{"v":2}', Date.now());
      const meta = await store.stat('v/doc');
      assert.ok(meta && meta.storedAt > 2000, 'a refresh with unchanged bytes still records the new storedAt');
    });

    void it('keeps attrs with non-ASCII text intact', async () => {
      const store = await make();
      const attrs = { filename: 'pkg_ü_日本.zip', note: 'a=b; c\nd' };
      await put(store, 'u/attrs', Buffer.from('z'), attrs);
      assert.deepEqual((await store.stat('u/attrs'))?.attrs, attrs);
    });

    void it('dispose without commit leaves nothing behind', async () => {
      const store = await make();
      const p = await store.create('d/dropped');
      await p.append(Buffer.from('bytes'));
      await p.dispose();
      assert.equal(await store.stat('d/dropped'), undefined);
    });

    void it('records the class, validators and expiry at commit and reads them back through stat, open, read and list', async () => {
      const store = await make();
      const body = Buffer.from('classified');
      const p = await store.create('k/marker');
      await p.append(body);
      const extra = { class: 'marker', etag: '"abc"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT', expiresAt: 5_000_000 } as const;
      await p.commit({ sha256: sha(body), contentType: 'x', storedAt: 1, ...extra });
      await p.dispose();
      const pick = (m: Record<string, unknown> | undefined): Record<string, unknown> => ({ class: m?.class, etag: m?.etag, lastModified: m?.lastModified, expiresAt: m?.expiresAt });
      assert.deepEqual(pick({ ...(await store.stat('k/marker')) }), extra);
      const opened = await store.open('k/marker');
      assert.ok(opened);
      opened.body.destroy();
      assert.deepEqual(pick({ ...opened.meta }), extra);
      assert.deepEqual(pick({ ...(await store.read('k/marker'))?.meta }), extra);
      const listed = [];
      for await (const o of store.list('k/')) listed.push(o);
      assert.deepEqual(pick({ ...listed[0]?.meta }), extra);
      await put(store, 'k/plain', Buffer.from('old'));
      const plain = await store.read('k/plain');
      assert.equal(plain?.body.toString(), 'old', 'an object committed without a class still reads');
      assert.equal(plain?.meta.class, undefined);
      assert.equal(plain?.meta.etag, undefined);
      assert.equal(plain?.meta.expiresAt, undefined);
    });

    void it('renews an object: new storedAt and validators, same bytes and other fields; a missing key renews nothing', async () => {
      const store = await make();
      assert.equal(typeof store.renew, 'function', 'the backend renews');
      const body = Buffer.alloc(300_000, 3);
      const p = await store.create('n/doc');
      await p.append(body);
      await p.commit({ class: 'metadata', sha256: sha(body), contentType: 'application/json', storedAt: 1000, attrs: { a: 'b' }, etag: '"v1"', expiresAt: 9000 });
      await p.dispose();
      const renewed = await store.renew?.('n/doc', { storedAt: 2000, lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT' });
      const expected = { class: 'metadata', size: body.length, sha256: sha(body), contentType: 'application/json', storedAt: 2000, attrs: { a: 'b' }, etag: '"v1"', lastModified: 'Thu, 01 Jan 2026 00:00:00 GMT', expiresAt: 9000 };
      assert.deepEqual(renewed, expected, 'fields left out keep their values');
      assert.deepEqual(await store.stat('n/doc'), expected);
      const got = await store.read('n/doc');
      assert.ok(got?.body.equals(body), 'the bytes stay');
      assert.deepEqual(got?.meta, expected);
      const again = await store.renew?.('n/doc', { storedAt: 3000, etag: '"v2"', expiresAt: 12_000 });
      assert.deepEqual(again, { ...expected, storedAt: 3000, etag: '"v2"', expiresAt: 12_000 });
      const listed = [];
      for await (const o of store.list('n/')) listed.push(o);
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.meta.storedAt, 3000);
      assert.equal(await store.renew?.('n/missing', { storedAt: 1 }), undefined);
      assert.equal(await store.stat('n/missing'), undefined, 'renewing a missing key creates nothing');
    });

    void it('readers never see a renewed object missing or torn', async () => {
      const store = await make();
      const body = Buffer.alloc(100_000, 8);
      await put(store, 'n/busy', body);
      let renewing = true;
      const renewals = (async () => {
        for (let i = 1; i <= 15; i++) assert.ok(await store.renew?.('n/busy', { storedAt: i, etag: `"${i}"` }));
        renewing = false;
      })();
      let reads = 0;
      while (renewing) {
        const got = await store.read('n/busy');
        assert.ok(got, 'never missing');
        assert.ok(got.body.equals(body), 'never torn');
        reads++;
      }
      await renewals;
      assert.ok(reads > 0);
      assert.equal((await store.stat('n/busy'))?.etag, '"15"');
    });

    void it('lists each object with a last access no earlier than its commit', async () => {
      const store = await make();
      const storedAt = Date.now() - 5000;
      const p = await store.create('t/one');
      await p.append(Buffer.from('1'));
      await p.commit({ sha256: sha(Buffer.from('1')), contentType: 'x', storedAt });
      await p.dispose();
      const listed = [];
      for await (const o of store.list('t/')) listed.push(o);
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.meta.storedAt, storedAt);
      assert.ok((listed[0]?.lastAccess ?? 0) >= storedAt);
    });
  });
}
