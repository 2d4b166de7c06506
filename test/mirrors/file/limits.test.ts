/**
 * `max_size` (regcache's extension of the file block): a file larger than it
 * is refused with 502 ERR_UPSTREAM_TOO_LARGE, through curl, and nothing is
 * stored; a file within it is served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { curl, startFileCache, storedFiles } from './support.js';

void describe('file mode: max_size', () => {
  let origin: FileOrigin;
  let rc: RegcacheProcess;
  before(async () => {
    origin = await startFileOrigin();
    origin.put('/big.bin', Buffer.alloc(50_000, 7));
    origin.put('/ok.bin', Buffer.alloc(5_000, 9));
    rc = await startFileCache({ upstreams: [origin.url], default_policy: 'immutable', max_size: 20_000 });
  });
  after(async () => {
    await rc.stop();
    await origin.close();
  });

  void it('refuses a larger file with a JSON error and stores nothing', async () => {
    const big = await curl('-sS', '-w', '\n%{http_code}', `${rc.url}/files/big.bin`);
    const text = big.stdout.toString();
    assert.match(text, /"code":"ERR_UPSTREAM_TOO_LARGE"/);
    assert.match(text, /\n502$/);
    assert.ok(!(await storedFiles(rc.dataDir)).some((f) => f.includes('big')), 'nothing stored');
    const ok = await curl('-fsS', `${rc.url}/files/ok.bin`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.length, 5_000);
  });
});
