/**
 * The cargo mode's pure parts: settings defaults (cache-proxy's), sparse
 * index paths, versions, index lines, `dl` template expansion and the
 * config.json clients get.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEntry } from '../../../src/mirrors/cargo/index-file.js';
import { checkVersion, crateKey, crateOfKey, indexPrefix, nameOfIndexPath } from '../../../src/mirrors/cargo/names.js';
import { checkRegistryConfig, clientRegistryConfig, downloadUrl, upstreamDl } from '../../../src/mirrors/cargo/registry-config.js';
import { cargoSettingsSchema } from '../../../src/mirrors/cargo/settings.js';

const CK = 'a'.repeat(64);

void describe('cargo mode units', () => {
  void it("settings: cache-proxy's defaults; index_fresh_for below 1s refused", () => {
    const s = cargoSettingsSchema.parse({ upstream: 'https://index.crates.io/' });
    assert.deepEqual(
      { ...s },
      { upstream: 'https://index.crates.io', crate_policy: 'immutable', index_fresh_for: 0, index_busy_policy: 'stale', auth_required: false, max_crate_size: 512 * 1024 * 1024 },
    );
    assert.equal(cargoSettingsSchema.parse({ upstream: 'https://x.example', index_fresh_for: '5m' }).index_fresh_for, 300_000);
    assert.equal(cargoSettingsSchema.safeParse({ upstream: 'https://x.example', index_fresh_for: '500ms' }).success, false);
    assert.equal(cargoSettingsSchema.safeParse({ upstream: 'https://x.example', index_policy: 'revalidate' }).success, false, 'unknown key');
  });

  void it('index paths: the prefix rules, lower-case only', () => {
    assert.deepEqual(['a', 'ab', 'abc', 'serde', 'Serde'].map(indexPrefix), ['1', '2', '3/a', 'se/rd', 'Se/rd']);
    assert.equal(nameOfIndexPath(['3', 'a', 'abc']), 'abc');
    assert.equal(nameOfIndexPath(['se', 'rd', 'serde_json']), 'serde_json');
    for (const bad of [['3', 'b', 'abc'], ['se', 'rd', 'Serde'], ['1', 'ab'], ['..', 'rd', 'serde'], ['se', 'rd', 'se rde'], ['3', '9', '9xx']]) {
      assert.throws(() => nameOfIndexPath(bad), { code: 'ERR_BAD_REQUEST' }, bad.join('/'));
    }
  });

  void it('versions: semver as the index writes it', () => {
    for (const ok of ['1.0.0', '0.1.0-rc.1', '300.1.0+3.1.0', '1.2.3-alpha+build.7']) assert.equal(checkVersion(ok), ok);
    for (const bad of ['1.0', 'v1.0.0', '01.0.0', '1.0.0 ', '1.0.0/..', '']) assert.throws(() => checkVersion(bad), { code: 'ERR_BAD_REQUEST' }, bad);
  });

  void it('keys: one per crate version, read back for listings', () => {
    const key = crateKey('crates', 'openssl-src', '300.1.0+3.1.0');
    assert.deepEqual(crateOfKey('crates', key), { name: 'openssl-src', version: '300.1.0+3.1.0' });
    assert.equal(crateOfKey('crates', 'cargo/crates/c/openssl-src/index'), undefined);
    assert.equal(crateOfKey('other', key), undefined);
  });

  void it('index lines: the matching version with a valid cksum; garbage skipped', () => {
    const body = Buffer.from(
      [
        'not json',
        JSON.stringify({ name: 'Foo', vers: '1.0.0', cksum: 'zz' }),
        JSON.stringify({ name: 'bar', vers: '1.0.0', cksum: CK }),
        JSON.stringify({ name: 'Foo', vers: '1.0.0', cksum: CK, deps: [] }),
        '',
      ].join('\n'),
    );
    assert.deepEqual(findEntry(body, 'foo', '1.0.0'), { name: 'Foo', vers: '1.0.0', cksum: CK });
    assert.equal(findEntry(body, 'foo', '1.0.1'), undefined);
  });

  void it('dl templates expand as cargo does; no marker appends /{crate}/{version}/download', () => {
    const e = { name: 'Serde', vers: '1.0.0', cksum: CK };
    assert.equal(downloadUrl('https://static.crates.io/crates', e), 'https://static.crates.io/crates/Serde/1.0.0/download');
    assert.equal(downloadUrl('https://dl.example/{prefix}/{lowerprefix}/{crate}/{version}/{sha256-checksum}', e), `https://dl.example/Se/rd/se/rd/Serde/1.0.0/${CK}`);
    assert.throws(() => downloadUrl('file:///etc/{crate}', e), { code: 'ERR_UPSTREAM_BAD_RESPONSE' });
    assert.throws(() => downloadUrl('https://user:pw@dl.example/{crate}', e), { code: 'ERR_UPSTREAM_BAD_RESPONSE' });
    assert.equal(upstreamDl(Buffer.from('{"dl":"/files/{crate}"}'), 'https://index.example/config.json'), 'https://index.example/files/{crate}');
  });

  void it('config.json for clients: dl and api here, auth-required from settings, other keys kept', () => {
    const upstream = Buffer.from(JSON.stringify({ dl: 'https://static.crates.io/crates', api: 'https://crates.io', extra: 1 }));
    assert.deepEqual(JSON.parse(clientRegistryConfig(upstream, 'https://cache.example/cargo', true).toString()), {
      dl: 'https://cache.example/cargo/api/v1/crates/{crate}/{version}/download',
      api: 'https://cache.example/cargo',
      extra: 1,
      'auth-required': true,
    });
    assert.equal((JSON.parse(clientRegistryConfig(Buffer.from('{"dl":"x"}'), 'http://c/cargo', false).toString()) as Record<string, unknown>).api, undefined);
    assert.throws(() => checkRegistryConfig(Buffer.from('[1]')), { code: 'ERR_UPSTREAM_BAD_RESPONSE' });
    assert.throws(() => checkRegistryConfig(Buffer.from('{"api":"x"}')), { code: 'ERR_UPSTREAM_BAD_RESPONSE' });
  });
});
