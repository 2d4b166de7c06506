import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RegcacheError } from '../../src/core/errors.js';
import { decodeKeySegment, encodeKeySegment } from '../../src/core/keys.js';
import { assertKey } from '../../src/core/store.js';

const bad = (e: RegcacheError): boolean => e.code === 'ERR_BAD_REQUEST';

/** Encodes, checks the segment is a valid key on its own and inside a key, decodes back. */
function roundTrip(name: string): string {
  const seg = encodeKeySegment(name);
  assertKey(seg);
  assertKey(`m/${seg}/x`);
  assert.equal(decodeKeySegment(seg), name, JSON.stringify(name));
  return seg;
}

void describe('key segments for upstream names', () => {
  void it('round-trips the awkward names of real ecosystems into valid segments', () => {
    const cases: Record<string, string> = {
      '@scope/name': '_=40scope=2Fname',
      'sha256:abc': 'sha256=3Aabc',
      '1.0~rc1': '1.0=7Erc1',
      '!azure': '_=21azure',
      '..': '_=2E.',
      '.': '_=2E',
      'a..b...c': 'a.=2Eb.=2E.c',
      'plain-name_1.2+build@x': 'plain-name_1.2+build@x',
      '_private': '_=5Fprivate',
      '-dash': '_=2Ddash',
      'a=b': 'a=3Db',
      'пакет': '_=D0=BF=D0=B0=D0=BA=D0=B5=D1=82',
      'x/../y': 'x=2F.=2E=2Fy',
      ' space ': '_=20space=20',
    };
    for (const [name, seg] of Object.entries(cases)) assert.equal(roundTrip(name), seg, name);
    roundTrip('日本語のパッケージ🙂');
    roundTrip('\u0000nul and control \u001f');
  });

  void it('long names: the escaped form while it fits, else the compact form, up to 148 bytes of any kind', () => {
    assert.equal(roundTrip('a'.repeat(200)), 'a'.repeat(200));
    const long = ':'.repeat(148);
    assert.ok(roundTrip(long).startsWith('__'));
    roundTrip('🙂'.repeat(37));
    assert.throws(() => encodeKeySegment(':'.repeat(149)), bad);
    assert.throws(() => encodeKeySegment('a'.repeat(201)), bad);
  });

  void it('refuses the empty name and strings that are not well-formed unicode', () => {
    assert.throws(() => encodeKeySegment(''), bad);
    assert.throws(() => encodeKeySegment('a\ud800b'), bad);
  });

  void it('decodes only canonical segments', () => {
    for (const seg of ['=41', '_abc', '_=41', 'a=2e', 'a=3', 'a=ZZ', '_=FF', '__', '__YQ', 'a=2Eb', '_=2E=2E', '']) {
      assert.throws(() => decodeKeySegment(seg), bad, seg);
    }
  });

  void it('round-trips random names', () => {
    const pool = 'aZ09_.+@-=:/~! é日🙂.\u0000';
    const chars = [...pool];
    for (let i = 0; i < 2000; i++) {
      const n = randomInt(1, 31);
      let name = '';
      for (let j = 0; j < n; j++) name += chars[randomInt(chars.length)] ?? 'a';
      roundTrip(name);
    }
    for (let i = 0; i < 200; i++) {
      const name = randomBytes(randomInt(1, 70)).toString('latin1');
      roundTrip(name);
    }
  });
});
