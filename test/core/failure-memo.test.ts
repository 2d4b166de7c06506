import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import { FailureMemo } from '../../src/core/failure-memo.js';

void describe('FailureMemo', () => {
  void it('answers a remembered failure until its TTL passes, and keeps at most maxEntries', async () => {
    let now = 1000;
    const memo = new FailureMemo(500, 2, () => now);
    let runs = 0;
    const failing = (): Promise<never> => {
      runs++;
      return Promise.reject(new RegcacheError('ERR_UPSTREAM_NOT_FOUND', 'gone'));
    };
    const remember = (): boolean => true;
    await assert.rejects(memo.run('a', failing, remember), { message: 'gone' });
    await assert.rejects(memo.run('a', failing, remember), (err: unknown) => err instanceof RegcacheError && err.code === 'ERR_UPSTREAM_NOT_FOUND' && /earlier/.test(err.message));
    assert.equal(runs, 1);
    now += 500;
    await assert.rejects(memo.run('a', failing, remember), { message: 'gone' });
    assert.equal(runs, 2, 'tried again after the TTL');
    await assert.rejects(memo.run('b', failing, remember));
    await assert.rejects(memo.run('c', failing, remember));
    assert.equal(memo.get('a'), undefined, 'the oldest entry made room');
    await assert.rejects(memo.run('d', failing, () => false));
    assert.equal(memo.get('d'), undefined, 'only what the caller chose is remembered');
  });
});
