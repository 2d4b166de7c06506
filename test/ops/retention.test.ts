import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifier } from '../../src/app-instances.js';
import { applyRetention } from '../../src/ops/retention.js';

const classify = classifier();
import type { ListedObject } from '../../src/core/store.js';

const obj = (key: string, size: number, lastAccess: number): ListedObject => ({
  key,
  lastAccess,
  meta: { size, sha256: 'x', contentType: 'application/zip', storedAt: lastAccess },
});

const DAY = 86_400_000;
const NOW = 100 * DAY;

void describe('applyRetention', () => {
  const objects = [
    obj('tf/providers/h/a/b/1.0.0/linux_amd64/zip', 400, NOW - 10 * DAY),
    obj('tf/providers/h/a/b/1.1.0/linux_amd64/zip', 400, NOW - 5 * DAY),
    obj('tf/providers/h/a/b/1.2.0/linux_amd64/zip', 400, NOW - 1 * DAY),
    obj('tf/providers/h/a/b/versions', 50, NOW - 40 * DAY),
    obj('tf/providers/h/secret/p/private', 7, NOW - 400 * DAY),
    obj('regcache/stats', 100, NOW - 400 * DAY),
  ];

  void it('expires objects unused for expireAfter, but never private markers or own records', async () => {
    const removed: string[] = [];
    const r = await applyRetention(objects, (k) => Promise.resolve(void removed.push(k)), { maxSize: undefined, expireAfterMs: 30 * DAY, dryRun: false, busy: () => false, classify, now: NOW });
    assert.deepEqual(removed, ['tf/providers/h/a/b/versions']);
    assert.equal(r.removed[0]?.reason, 'expired');
  });

  void it('evicts least recently used artifacts until under maxSize', async () => {
    const removed: string[] = [];
    const r = await applyRetention(objects, (k) => Promise.resolve(void removed.push(k)), { maxSize: 800, expireAfterMs: undefined, dryRun: false, busy: () => false, classify, now: NOW });
    assert.deepEqual(removed, ['tf/providers/h/a/b/1.0.0/linux_amd64/zip', 'tf/providers/h/a/b/1.1.0/linux_amd64/zip']);
    assert.ok(r.bytesAfter <= 800);
  });

  void it('skips objects a response is streaming and moves on to the next', async () => {
    const removed: string[] = [];
    const busy = (k: string): boolean => k.includes('1.0.0');
    const r = await applyRetention(objects, (k) => Promise.resolve(void removed.push(k)), { maxSize: 800, expireAfterMs: undefined, dryRun: false, busy, classify, now: NOW });
    assert.ok(!removed.some((k) => k.includes('1.0.0')));
    assert.equal(r.skippedBusy, 1);
    assert.deepEqual(removed, ['tf/providers/h/a/b/1.1.0/linux_amd64/zip', 'tf/providers/h/a/b/1.2.0/linux_amd64/zip']);
  });

  void it('dry run removes nothing but reports the same plan', async () => {
    const removed: string[] = [];
    const r = await applyRetention(objects, (k) => Promise.resolve(void removed.push(k)), { maxSize: 800, expireAfterMs: undefined, dryRun: true, busy: () => false, classify, now: NOW });
    assert.deepEqual(removed, []);
    assert.equal(r.removed.length, 2);
  });
});
