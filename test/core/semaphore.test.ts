import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import { Semaphore } from '../../src/core/semaphore.js';

void describe('Semaphore', () => {
  void it('grants up to its limit, then hands each released slot to the next waiter in order', async () => {
    const slots = new Semaphore(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    assert.equal(slots.running, 2);
    assert.equal(slots.waiting, 2);
    a();
    a();
    (await c)();
    b();
    (await d)();
    assert.deepEqual(order, ['c', 'd']);
    assert.equal(slots.running, 0, 'a repeated release frees nothing twice');
  });

  void it('lets a waiter leave on abort or after waitMs without taking a slot', async () => {
    const slots = new Semaphore(1);
    const held = await slots.acquire();
    const controller = new AbortController();
    const aborted = slots.acquire({ signal: controller.signal });
    const timedOut = slots.acquire({ waitMs: 10, what: 'test' });
    controller.abort(new RegcacheError('ERR_SHUTTING_DOWN'));
    await assert.rejects(aborted, (err: unknown) => err instanceof RegcacheError && err.code === 'ERR_SHUTTING_DOWN');
    await assert.rejects(timedOut, (err: unknown) => err instanceof RegcacheError && err.code === 'ERR_UPSTREAM_TIMEOUT');
    assert.equal(slots.waiting, 0);
    held();
    assert.equal(slots.running, 0);
    (await slots.acquire())();
  });
});
