/**
 * The `file` block's validation (cache-proxy's keys and value types) and
 * rule precedence: every matching rule applies in order, a later match
 * overriding the fields it sets, as cache-proxy's resolver does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPolicyResolver } from '../../../src/mirrors/file/rules.js';
import { fileSettingsSchema } from '../../../src/mirrors/file/settings.js';

const H = 3600_000;

void describe('file settings', () => {
  void it('defaults as cache-proxy: bypass, busy bypass, fresh for 0, no negative cache, no rules', () => {
    const s = fileSettingsSchema.parse({ upstreams: ['https://example.com/dl/'] });
    assert.deepEqual(s, { upstreams: ['https://example.com/dl'], pass_headers: [], default_policy: 'bypass', fresh_for: 0, busy_policy: 'bypass', not_found_ttl: 0, max_size: 16 * 1024 ** 3, rules: [] });
  });

  void it('reads Go durations, forever and never', () => {
    const s = fileSettingsSchema.parse({
      upstreams: ['https://example.com'],
      default_policy: 'revalidate',
      fresh_for: 'forever',
      rules: [{ match: 'a/**', fresh_for: '1h30m', expire_after: 'never' }],
    });
    assert.equal(s.fresh_for, Number.POSITIVE_INFINITY);
    assert.equal(s.rules[0]?.fresh_for, 1.5 * H);
    assert.equal(s.rules[0]?.expire_after, Number.POSITIVE_INFINITY);
  });

  void it('refuses what cache-proxy refuses, and unknown keys', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /upstreams/],
      [{ upstreams: [] }, /at least one upstream/],
      [{ upstreams: ['ftp://x'] }, /http or https/],
      [{ upstreams: ['https://u:p@x'] }, /user-info/],
      [{ upstreams: ['https://x'], default_policy: 'cache' }, /bypass, immutable or revalidate/],
      [{ upstreams: ['https://x'], busy_policy: 'wait' }, /bypass or stale/],
      [{ upstreams: ['https://x'], rules: [{ match: '' }] }, /match is empty/],
      [{ upstreams: ['https://x'], rules: [{ match: 'a/[b' }] }, /invalid match/],
      [{ upstreams: ['https://x'], rules: [{ match: 'a', ttl: '1m' }] }, /ttl/],
      [{ upstreams: ['https://x'], pass_headers: ['X Bad'] }, /header name/],
      [{ upstreams: ['https://x'], fresh_for: 'soon' }, /fresh_for|duration/],
      [{ upstreams: ['https://x'], colour: 'red' }, /colour/],
    ];
    for (const [input, why] of bad) {
      const r = fileSettingsSchema.safeParse(input);
      assert.equal(r.success, false, JSON.stringify(input));
      const text = JSON.stringify(r.error?.issues);
      assert.match(text, why, `${JSON.stringify(input)}: ${text}`);
    }
  });
});

void describe('file rules', () => {
  const settings = fileSettingsSchema.parse({
    upstreams: ['https://example.com'],
    default_policy: 'revalidate',
    fresh_for: '5m',
    busy_policy: 'stale',
    rules: [
      { match: 'releases/**', policy: 'immutable', expire_after: '8760h' },
      { match: 'releases/**/*.sha256', policy: 'revalidate', fresh_for: '1m' },
      { match: '**/nightly/**', policy: 'bypass' },
      { match: '*.txt', busy_policy: 'bypass' },
    ],
  });
  const resolve = createPolicyResolver(settings, 720 * H);

  void it('a path no rule matches gets the defaults and the instance expire_after', () => {
    assert.deepEqual(resolve('docs/index.json'), { policy: 'revalidate', freshForMs: 5 * 60_000, busy: 'stale', expireAfterMs: 720 * H });
  });

  void it('every matching rule applies in order; a later one overrides only the fields it sets', () => {
    assert.deepEqual(resolve('releases/v1/tool.zip'), { policy: 'immutable', freshForMs: 5 * 60_000, busy: 'stale', expireAfterMs: 8760 * H });
    // Rule 2 matches after rule 1: revalidate with its fresh_for, rule 1's expire_after kept.
    assert.deepEqual(resolve('releases/v1/tool.zip.sha256'), { policy: 'revalidate', freshForMs: 60_000, busy: 'stale', expireAfterMs: 8760 * H });
    // Rule 3 comes after rule 1: the later match wins.
    assert.equal(resolve('releases/nightly/tool.zip').policy, 'bypass');
  });

  void it('globs are doublestar: * stays within a segment, ** spans any number (zero included), dot files match', () => {
    assert.equal(resolve('notes.txt').busy, 'bypass');
    assert.equal(resolve('a/notes.txt').busy, 'stale');
    assert.equal(resolve('releases/tool.zip').policy, 'immutable');
    assert.equal(resolve('releases/.hidden/x').policy, 'immutable');
    assert.equal(resolve('nightly/x').policy, 'bypass');
    assert.equal(resolve('other/releases/x').policy, 'revalidate');
  });
});
