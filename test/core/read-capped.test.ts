/**
 * readCapped: a small answer read whole, refused past its cap (announced
 * or streamed), the stream destroyed when refused.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import { readCapped } from '../../src/core/read-capped.js';

const tooLarge = (): RegcacheError => new RegcacheError('ERR_UPSTREAM_TOO_LARGE', 'too large');
const chunks = (...sizes: number[]): Readable => Readable.from(sizes.map((n) => Buffer.alloc(n, 1)));

void describe('readCapped', () => {
  void it('reads a body up to the cap whole', async () => {
    const got = await readCapped(chunks(3, 4, 3), 10, tooLarge);
    assert.equal(got.length, 10);
    assert.equal((await readCapped(undefined, 10, tooLarge)).length, 0);
  });
  void it('refuses a streamed body past the cap and destroys the stream', async () => {
    const body = chunks(6, 6);
    await assert.rejects(readCapped(body, 10, tooLarge), (err: RegcacheError) => err.code === 'ERR_UPSTREAM_TOO_LARGE');
    assert.equal(body.destroyed, true);
  });
  void it('refuses an announced size past the cap before reading', async () => {
    let read = 0;
    const body = new Readable({
      read() {
        read += 1;
        this.push(null);
      },
    });
    await assert.rejects(readCapped(body, 10, tooLarge, 11), (err: RegcacheError) => err.code === 'ERR_UPSTREAM_TOO_LARGE');
    assert.equal(read, 0);
    assert.equal(body.destroyed, true);
  });
});
