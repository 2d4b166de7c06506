import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import { decideArtifactFreshness, decideFreshness, servesStaleOn } from '../../src/core/freshness.js';
import { ByteLru } from '../../src/core/lru.js';
import { mapLimit } from '../../src/core/map-limit.js';
import { createSingleFlight } from '../../src/core/single-flight.js';

void describe('decideFreshness', () => {
  const ttl = 600_000;
  const sie = 7 * 86_400_000;
  void it('is fresh within ttl', () => {
    assert.equal(decideFreshness(1000, 1000, ttl, sie), 'fresh');
    assert.equal(decideFreshness(1000, 1000 + ttl - 1, ttl, sie), 'fresh');
  });
  void it('is stale from ttl until ttl + staleIfError', () => {
    assert.equal(decideFreshness(1000, 1000 + ttl, ttl, sie), 'stale');
    assert.equal(decideFreshness(1000, 1000 + ttl + sie - 1, ttl, sie), 'stale');
  });
  void it('is expired after that', () => {
    assert.equal(decideFreshness(1000, 1000 + ttl + sie, ttl, sie), 'expired');
  });
  void it('never expires immutable entries', () => {
    assert.equal(decideFreshness(0, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY, 0), 'fresh');
  });
  void it('treats clock skew (stored in the future) as fresh', () => {
    assert.equal(decideFreshness(5000, 1000, ttl, sie), 'fresh');
  });
  void it('ttl 0 means always revalidate', () => {
    assert.equal(decideFreshness(1000, 1000, 0, sie), 'stale');
    assert.equal(decideFreshness(1000, 1000, 0, 0), 'expired');
  });
});

void describe('ByteLru', () => {
  void it('evicts least recently used entries beyond its byte bound', () => {
    const lru = new ByteLru<string>(10);
    lru.set('a', 'A', 4);
    lru.set('b', 'B', 4);
    assert.equal(lru.get('a'), 'A');
    lru.set('c', 'C', 4);
    assert.equal(lru.get('b'), undefined, 'b was least recently used');
    assert.equal(lru.get('a'), 'A');
    assert.equal(lru.get('c'), 'C');
    assert.equal(lru.bytes, 8);
  });
  void it('gives a read entry a second chance over one that was not read, and never drops the entry being added', () => {
    const lru = new ByteLru<string>(12);
    lru.set('a', 'A', 4);
    lru.set('b', 'B', 4);
    lru.set('c', 'C', 4);
    assert.equal(lru.get('a'), 'A');
    assert.equal(lru.get('b'), 'B');
    lru.set('d', 'D', 4);
    assert.equal(lru.peek('c'), undefined, 'c, never read, went first');
    assert.deepEqual(['a', 'b', 'd'].map((k) => lru.peek(k)), ['A', 'B', 'D']);
    for (const k of ['a', 'b', 'd']) lru.get(k);
    lru.set('big', 'X', 12);
    assert.deepEqual(['a', 'b', 'd', 'big'].map((k) => lru.peek(k)), [undefined, undefined, undefined, 'X'], 'the new entry stays, even behind read ones');
    assert.equal(lru.bytes, 12);
  });
  void it('peek does not mark an entry as used', () => {
    const lru = new ByteLru<string>(8);
    lru.set('a', 'A', 4);
    lru.set('b', 'B', 4);
    assert.equal(lru.peek('a'), 'A');
    lru.set('c', 'C', 4);
    assert.equal(lru.peek('a'), undefined);
    assert.equal(lru.peek('b'), 'B');
  });
  void it('refuses entries larger than the bound', () => {
    const lru = new ByteLru<string>(10);
    lru.set('big', 'x', 11);
    assert.equal(lru.get('big'), undefined);
    assert.equal(lru.bytes, 0);
  });
});

void describe('single flight', () => {
  void it('runs one execution for concurrent callers and forgets it after', async () => {
    const sf = createSingleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fn = async (): Promise<number> => {
      runs++;
      await gate;
      return 42;
    };
    const all = Promise.all(Array.from({ length: 10 }, () => sf.run('k', fn)));
    assert.equal(sf.size, 1);
    release();
    assert.deepEqual(await all, Array(10).fill(42));
    assert.equal(runs, 1);
    assert.equal(sf.size, 0);
    await sf.run('k', fn);
    assert.equal(runs, 2);
  });
  void it('propagates a rejection to every caller', async () => {
    const sf = createSingleFlight<number>();
    const results = await Promise.allSettled([1, 2, 3].map(() => sf.run('k', () => Promise.reject(new Error('boom')))));
    assert.ok(results.every((r) => r.status === 'rejected'));
  });
});

void describe('mapLimit', () => {
  void it('keeps order and never exceeds the limit', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r));
      active--;
      return n * 2;
    });
    assert.deepEqual(out, [10, 2, 8, 4, 6, 0, 12]);
    assert.equal(peak, 3);
  });
});

void describe('artifact freshness', () => {
  void it('immutable artifacts are always fresh; mutable ones until freshForMs after storing', () => {
    assert.equal(decideArtifactFreshness({}, { storedAt: 0 }, 1e12), 'fresh');
    const route = { freshness: { freshForMs: 1000, busy: 'stale' as const } };
    assert.equal(decideArtifactFreshness(route, { storedAt: 5000 }, 5999), 'fresh');
    assert.equal(decideArtifactFreshness(route, { storedAt: 5000 }, 6000), 'stale');
    assert.equal(decideArtifactFreshness({ freshness: { freshForMs: Infinity, busy: 'stale' } }, { storedAt: 0 }, 1e15), 'fresh');
  });

  void it('a failed revalidation serves the stale copy except for authoritative answers and shutdown', () => {
    for (const code of ['ERR_UPSTREAM_STATUS', 'ERR_UPSTREAM_TIMEOUT', 'ERR_UPSTREAM_UNREACHABLE', 'ERR_INTEGRITY_MISMATCH', 'ERR_STORAGE_UNAVAILABLE'] as const) {
      assert.equal(servesStaleOn(new RegcacheError(code)), true, code);
    }
    for (const code of ['ERR_UPSTREAM_NOT_FOUND', 'ERR_UPSTREAM_UNAUTHORIZED', 'ERR_SHUTTING_DOWN'] as const) assert.equal(servesStaleOn(new RegcacheError(code)), false, code);
  });
});
