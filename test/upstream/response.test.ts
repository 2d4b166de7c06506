/**
 * Reading an upstream answer's validators and turning it into a fill
 * source: the first value of a header, nothing empty or overlong kept.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { UpstreamResponse } from '../../src/upstream/client.js';
import { artifactSource, firstValue, validatorsOf } from '../../src/upstream/response.js';

void describe('upstream response helpers', () => {
  void it('firstValue takes the first of repeated headers', () => {
    assert.equal(firstValue(['a', 'b']), 'a');
    assert.equal(firstValue('x'), 'x');
    assert.equal(firstValue(undefined), undefined);
  });
  void it('validatorsOf keeps a sane ETag and Last-Modified and drops empty or overlong ones', () => {
    assert.deepEqual(validatorsOf({ etag: '"v1"', 'last-modified': 'Fri, 04 Dec 2026 10:00:00 GMT' }), { etag: '"v1"', lastModified: 'Fri, 04 Dec 2026 10:00:00 GMT' });
    assert.deepEqual(validatorsOf({ etag: '', 'last-modified': 'x'.repeat(257) }), {});
    assert.deepEqual(validatorsOf({ etag: ['"a"', '"b"'] }), { etag: '"a"' });
  });
  void it('artifactSource carries body, size and validators', () => {
    const body = Readable.from([Buffer.from('abc')]);
    const res: UpstreamResponse = { status: 200, finalUrl: 'https://o.example/x', headers: { etag: '"e"' }, size: 3, body, configured: true };
    assert.deepEqual(artifactSource(res), { body, size: 3, etag: '"e"' });
    assert.deepEqual(artifactSource({ ...res, size: undefined, headers: {} }), { body });
  });
});
