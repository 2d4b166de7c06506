import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { formatSize, parseSize } from '../../src/config/size.js';

void describe('parseDuration', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['10s', 10_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1d2h3m4s5ms', 93_784_005],
    // Go's durations, as cache-proxy files write them.
    ['1.5h', 5_400_000],
    ['720h', 2_592_000_000],
    ['2500us', 3],
    ['1500000ns', 2],
    ['0.5s', 500],
  ];
  for (const [text, ms] of valid) {
    void it(`parses ${text}`, () => assert.equal(parseDuration(text), ms));
  }

  const invalid = ['', '10x', '-1m', 'm', '10', '1.h', '.5h', '10 m', ' 10m', '10M', '30m1h', '1m1m', '1h 30m', 'ms', '+5s'];
  for (const text of invalid) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseDuration(text), { name: 'RangeError', message: `invalid duration ${JSON.stringify(text)}` });
    });
  }

  void it('rejects values beyond safe integers', () => {
    assert.throws(() => parseDuration('99999999999999999w'), RangeError);
  });
});

void describe('formatDuration', () => {
  void it('formats compound durations', () => {
    assert.equal(formatDuration(0), '0');
    assert.equal(formatDuration(500), '500ms');
    assert.equal(formatDuration(1500), '1s500ms');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(1_209_600_000), '14d');
    assert.equal(formatDuration(-60_000), '-1m');
  });

  void it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 61_000, 3_600_001, 604_800_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });
});

void describe('parseSize', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['512', 512],
    ['512B', 512],
    ['10KiB', 10 * 1024],
    ['50MiB', 50 * 1024 ** 2],
    ['50GiB', 50 * 1024 ** 3],
    ['1TiB', 1024 ** 4],
    ['10KB', 10_000],
    ['10MB', 10_000_000],
    ['1GB', 1_000_000_000],
    ['8 MiB', 8 * 1024 ** 2],
  ];
  for (const [text, bytes] of valid) {
    void it(`parses ${text}`, () => assert.equal(parseSize(text), bytes));
  }

  for (const text of ['', 'MiB', '-1', '1.5GiB', '10mb', '10kib', '10 ', '10XB', '10iB']) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseSize(text), { name: 'RangeError', message: `invalid size ${JSON.stringify(text)}` });
    });
  }

  void it('formats with the largest exact binary unit', () => {
    assert.equal(formatSize(8 * 1024 ** 2), '8MiB');
    assert.equal(formatSize(1500), '1500B');
    assert.equal(formatSize(0), '0B');
  });
});
