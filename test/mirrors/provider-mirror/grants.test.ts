/**
 * Download grants over a real cache and fs store: the id is an HMAC (the
 * same client and provider re-use one grant; nothing of the credential is
 * in it), the stored object holds the credential only sealed, a grant
 * opens only for its own scope, id and signing key, while unexpired, from
 * any process sharing the store; it is stored again before a URL signed
 * now could outlive it; retention removes it once expired; listings and
 * provider purges do not see it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCache } from '../../../src/core/cache.js';
import { createGrants, grantKey, type Grants } from '../../../src/mirrors/provider-mirror/grants.js';
import { describeProviders, providerPurgeTarget } from '../../../src/mirrors/provider-mirror/listing.js';
import { instancePrefix } from '../../../src/mirrors/provider-mirror/names.js';
import { applyRetention, listPrefix } from '../../../src/ops/retention.js';
import type { Store } from '../../../src/core/store.js';
import { setupCache } from '../../core/cache-fixtures.js';
import { encodingsOf } from './support.js';

const KEY = Buffer.from('k'.repeat(64));
const PREFIX = instancePrefix('tfoci');
const SCOPE = `${PREFIX}registry.terraform.io/corp/secret`;
const OTHER_SCOPE = `${PREFIX}registry.terraform.io/corp/other`;
const CRED = 'Bearer tok-abc.def-123';
const TTL = 15 * 60_000;

/** A clock the test moves. */
const clock = { t: 1_700_000_000_000, now: (): number => clock.t };

function grantsOver(store: Store, cache: Parameters<typeof createGrants>[0]['cache'], key = KEY): Grants {
  return createGrants({ signingKey: key, cache, store, prefix: PREFIX, urlTtlMs: TTL, now: clock.now });
}

void describe('provider_mirror: download grants', () => {
  void it('one grant per client and provider; the id and the stored object hold the credential only sealed', async () => {
    const { store, cache } = await setupCache({ now: clock.now });
    const grants = grantsOver(store, cache);
    const id = await grants.issue(SCOPE, CRED);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await grants.issue(SCOPE, CRED), id, 'idempotent');
    assert.notEqual(await grants.issue(OTHER_SCOPE, CRED), id);
    assert.notEqual(await grants.issue(SCOPE, 'Bearer other'), id);
    const listed = await listPrefix(store, `${PREFIX}_grants/`);
    assert.equal(listed.length, 3, 'three grants, the repeated one stored once');
    const got = await store.read(grantKey(PREFIX, id));
    assert.ok(got);
    for (const form of encodingsOf(CRED)) {
      assert.ok(!id.includes(form), `id holds no ${form}`);
      assert.ok(!got.body.toString('latin1').includes(form), `stored object holds no ${form}`);
    }
    assert.equal(got.meta.class, 'metadata', 'retention may remove it');
  });

  void it('opens only for its scope, its id and its key; unknown, forged and malformed ids open nothing', async () => {
    const { store, cache } = await setupCache({ now: clock.now });
    const grants = grantsOver(store, cache);
    const id = await grants.issue(SCOPE, CRED);
    assert.equal(await grants.open(SCOPE, id), CRED);
    assert.equal(await grants.open(OTHER_SCOPE, id), undefined, 'bound to its scope');
    assert.equal(await grants.open(SCOPE, randomBytes(32).toString('hex')), undefined, 'unknown id');
    assert.equal(await grants.open(SCOPE, `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`), undefined, 'forged id');
    for (const bad of ['', id.toUpperCase(), `../${id.slice(3)}`, `${id}0`, 'x'.repeat(64)]) assert.equal(await grants.open(SCOPE, bad), undefined, JSON.stringify(bad));
    assert.equal(await grantsOver(store, cache, Buffer.from('j'.repeat(64))).open(SCOPE, id), undefined, 'another signing key opens nothing');

    // A grant's bytes stored under another id (a copied object) do not open there.
    const got = await store.read(grantKey(PREFIX, id));
    assert.ok(got);
    const otherId = await grants.issue(SCOPE, 'Bearer other');
    const pending = await store.create(grantKey(PREFIX, otherId));
    await pending.append(got.body);
    await pending.commit({ ...got.meta });
    await pending.dispose();
    assert.equal(await grants.open(SCOPE, otherId), undefined);
  });

  void it('found by another process sharing the store; stored again before a URL signed now outlives it; expired ones open nothing and retention removes them', async () => {
    const { store, cache } = await setupCache({ now: clock.now });
    const grants = grantsOver(store, cache);
    const start = clock.t;
    const id = await grants.issue(SCOPE, CRED);
    const otherCache = createCache({ store, now: clock.now });
    const otherProcess = grantsOver(store, otherCache);
    assert.equal(await otherProcess.open(SCOPE, id), CRED, 'read from the store');

    const expiryNow = async (): Promise<number> => (await store.stat(grantKey(PREFIX, id)))?.expiresAt ?? 0;
    assert.ok((await expiryNow()) >= clock.t + TTL);
    for (const step of [TTL / 20, TTL / 10, TTL / 3, TTL]) {
      clock.t = start + step;
      assert.equal(await grants.issue(SCOPE, CRED), id);
      assert.ok((await expiryNow()) >= clock.t + TTL, `after ${step} ms the grant outlives a URL signed now`);
    }
    assert.equal(await grants.open(SCOPE, id), CRED);

    clock.t = (await expiryNow()) + 1;
    assert.equal(await grants.open(SCOPE, id), undefined, 'expired');
    assert.equal(await otherProcess.open(SCOPE, id), undefined);
    await otherCache.close();
    const report = await applyRetention(await listPrefix(store, PREFIX), (k) => cache.invalidate(k), {
      maxSize: undefined,
      expireAfterMs: undefined,
      dryRun: false,
      busy: () => false,
      classify: (_k, meta) => meta.class ?? 'metadata',
      now: clock.t,
    });
    assert.deepEqual(report.removed.map((r) => r.key), [grantKey(PREFIX, id)]);
    assert.equal(await store.stat(grantKey(PREFIX, id)), undefined);
  });

  void it('listings and provider purges do not see grants', async () => {
    const { store, cache } = await setupCache({ now: clock.now });
    await grantsOver(store, cache).issue(SCOPE, CRED);
    const objects = await listPrefix(store, PREFIX);
    assert.equal(objects.length, 1);
    assert.deepEqual(describeProviders('tfoci', objects), []);
    for (const target of [['registry.terraform.io'], ['registry.terraform.io', 'corp', 'secret']]) {
      const { prefixes } = providerPurgeTarget('tfoci', target);
      assert.ok(objects.every((o) => prefixes.every((p) => !o.key.startsWith(p))), target.join('/'));
    }
    assert.throws(() => providerPurgeTarget('tfoci', ['_grants']), /invalid purge path/);
  });
});
