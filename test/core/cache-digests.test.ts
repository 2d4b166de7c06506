import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import type { DigestAlgorithm, FillSummary } from '../../src/core/route.js';
import { digest, manualRoute, readAll, setupCache, until } from './cache-fixtures.js';

/** A route that checks one digest against `expected`, recording every summary it was given. */
function digestRoute(key: string, bytes: Buffer, alg: DigestAlgorithm, expected: string) {
  const summaries: FillSummary[] = [];
  const m = manualRoute(key, bytes, {
    digests: [alg],
    verify(s) {
      summaries.push(s);
      if (s.digests[alg] !== expected) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `${alg} mismatch`);
    },
  });
  return { ...m, summaries };
}

void describe('cache: digests computed while streaming', () => {
  for (const alg of ['sha512', 'sha1'] as const) {
    void it(`verifies a ${alg} route with the digest of exactly the bytes streamed (sha256 always given too)`, async () => {
      const { cache, store } = await setupCache();
      const bytes = randomBytes(700_000);
      const { route, state, summaries } = digestRoute(`d/${alg}`, bytes, alg, digest(alg, bytes));
      const reply = cache.artifact(route, { head: false });
      await until(() => state.source !== undefined);
      // Several chunks: the digest covers them all, in order.
      for (let off = 0; off < bytes.length; off += 100_000) state.source?.write(bytes.subarray(off, off + 100_000));
      state.source?.end();
      assert.ok((await readAll((await reply).body)).equals(bytes));
      assert.equal(summaries.length, 1);
      assert.deepEqual(summaries[0]?.digests, { sha256: digest('sha256', bytes), [alg]: digest(alg, bytes) });
      assert.equal(summaries[0]?.sha256, digest('sha256', bytes));
      assert.equal((await store.stat(`d/${alg}`))?.sha256, digest('sha256', bytes));
    });

    void it(`commits nothing when the ${alg} digest does not match`, async () => {
      const { cache, store } = await setupCache();
      const bytes = randomBytes(300_000);
      const other = Buffer.concat([bytes.subarray(0, -1), Buffer.from([bytes[bytes.length - 1]! ^ 1])]);
      const { route, state, summaries } = digestRoute(`d/bad-${alg}`, bytes, alg, digest(alg, other));
      const reply = cache.artifact(route, { head: false });
      await until(() => state.source !== undefined);
      state.source?.end(bytes);
      await assert.rejects(
        reply.then((r) => readAll(r.body)),
        (e: RegcacheError) => e.code === 'ERR_INTEGRITY_MISMATCH',
      );
      assert.equal(summaries.length, 1);
      assert.equal(await store.stat(`d/bad-${alg}`), undefined, 'nothing committed');
    });
  }
});
