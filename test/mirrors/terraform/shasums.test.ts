import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../../src/core/errors.js';
import { expectedShasum, parseShasums } from '../../../src/mirrors/terraform/shasums.js';
import { makeShasums } from '../../support/provider-fixtures.js';

const A = 'a'.repeat(64);
const B = '0123456789abcdef'.repeat(4);

function badResponse(err: unknown): boolean {
  return err instanceof RegcacheError && err.code === 'ERR_UPSTREAM_BAD_RESPONSE';
}

void describe('parseShasums', () => {
  void it('parses two-space and space-asterisk lines', () => {
    const sums = parseShasums(`${A}  one.zip\n${B} *two.zip\n`);
    assert.deepEqual([...sums], [
      ['one.zip', A],
      ['two.zip', B],
    ]);
  });

  void it('lowercases digests and tolerates blank lines and CRLF', () => {
    const sums = parseShasums(`\n${B.toUpperCase()}  x.zip\r\n\r\n   \n${A}  y.zip`);
    assert.equal(sums.get('x.zip'), B);
    assert.equal(sums.get('y.zip'), A);
    assert.equal(sums.size, 2);
  });

  void it('accepts an empty document', () => {
    assert.equal(parseShasums('').size, 0);
  });

  void it('round-trips the fixture format', () => {
    const text = makeShasums([
      { filename: 'b.zip', bytes: Buffer.from('b') },
      { filename: 'a.zip', bytes: Buffer.from('a') },
    ]);
    assert.ok(text.startsWith('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  a.zip\n'));
    assert.deepEqual([...parseShasums(text).keys()], ['a.zip', 'b.zip']);
  });

  void it('rejects malformed lines', () => {
    const bad = [
      `${A} one.zip`,
      `${A}\tone.zip`,
      `${A}  `,
      `${A.slice(1)}  one.zip`,
      `${A}0  one.zip`,
      `${'g'.repeat(64)}  one.zip`,
      'not a checksum line',
      `${A}  ok.zip\ngarbage`,
    ];
    for (const text of bad) assert.throws(() => parseShasums(text), badResponse, JSON.stringify(text));
  });

  void it('rejects one filename listed with two digests, allows an exact repeat', () => {
    assert.throws(() => parseShasums(`${A}  x.zip\n${B}  x.zip\n`), badResponse);
    assert.equal(parseShasums(`${A}  x.zip\n${A}  x.zip\n`).get('x.zip'), A);
  });
});

void describe('expectedShasum', () => {
  void it('returns the listed digest', () => {
    assert.equal(expectedShasum(parseShasums(`${A}  x.zip\n`), 'x.zip'), A);
  });

  void it('rejects an artifact the list does not mention', () => {
    assert.throws(() => expectedShasum(parseShasums(`${A}  x.zip\n`), 'y.zip'), badResponse);
  });
});
