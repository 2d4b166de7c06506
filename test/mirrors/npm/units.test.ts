/**
 * The npm mode's pieces on their own: the settings schema (cache-proxy's
 * keys and defaults), name and path checks, the digest a tarball must
 * have, and the server's reading of `@scope%2Fname`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../../src/core/errors.js';
import { parseRequestPath } from '../../../src/http/request-path.js';
import { parseNpmRequest } from '../../../src/mirrors/npm/names.js';
import { npmSettingsSchema } from '../../../src/mirrors/npm/settings.js';
import { expectedDigest } from '../../../src/mirrors/npm/tarballs.js';
import { buildVersion } from '../../fakes/npm-packages.js';

const badRequest = (fn: () => unknown): void => assert.throws(fn, (e) => e instanceof RegcacheError && e.code === 'ERR_BAD_REQUEST');

void describe('npm mode: settings', () => {
  void it("has cache-proxy's defaults", () => {
    const s = npmSettingsSchema.parse({ upstream: 'https://registry.npmjs.org/' });
    assert.equal(s.upstream, 'https://registry.npmjs.org');
    assert.equal(s.metadata_policy, 'revalidate');
    assert.equal(s.metadata_busy_policy, 'stale');
    assert.equal(s.tarball_policy, 'immutable');
    assert.equal(s.metadata_fresh_for, 0);
  });
  void it('takes the issue block as written and refuses what cache-proxy refuses', () => {
    const s = npmSettingsSchema.parse({ upstream: 'https://registry.npmjs.org', metadata_policy: 'revalidate', metadata_fresh_for: '1m', metadata_busy_policy: 'stale', tarball_policy: 'immutable' });
    assert.equal(s.metadata_fresh_for, 60_000);
    assert.equal(npmSettingsSchema.parse({ upstream: 'https://r.example', metadata_fresh_for: 'forever' }).metadata_fresh_for, Number.POSITIVE_INFINITY);
    for (const bad of [
      { upstream: 'https://r.example', metadata_fresh_for: '500ms' },
      { upstream: 'https://r.example', metadata_policy: 'sometimes' },
      { upstream: 'https://r.example', metadata_busy_policy: 'immutable' },
      { upstream: 'ftp://r.example' },
      { upstream: 'https://user:pw@r.example' },
      { upstream: 'https://r.example', unknown_key: 1 },
      {},
    ]) {
      assert.equal(npmSettingsSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});

void describe('npm mode: request paths', () => {
  void it('reads packuments, tarballs and dist-tags, scoped or not', () => {
    assert.deepEqual(parseNpmRequest(['lodash']), { kind: 'packument', name: 'lodash' });
    assert.deepEqual(parseNpmRequest(['@babel', 'core']), { kind: 'packument', name: '@babel/core' });
    assert.deepEqual(parseNpmRequest(['@babel', 'core', '-', 'core-7.0.0.tgz']), { kind: 'tarball', name: '@babel/core', file: 'core-7.0.0.tgz' });
    assert.deepEqual(parseNpmRequest(['-', 'package', '@babel', 'core', 'dist-tags']), { kind: 'dist-tags', name: '@babel/core' });
    assert.equal(parseNpmRequest(['-', 'v1', 'search']).kind, 'unsupported');
  });
  void it('refuses names npm would not publish', () => {
    for (const segs of [['Lodash'], ['.bin'], ['_x'], ['a b'], ['@Babel', 'core'], ['@', 'x'], ['@babel'], ['a'.repeat(215)], ['x', '-', '../y.tgz'], ['x', '-', 'y.tar']]) {
      badRequest(() => parseNpmRequest(segs));
    }
  });
  void it('the server reads @scope%2Fname as @scope/name and still refuses other encoded slashes', () => {
    assert.deepEqual(parseRequestPath('/npm/@acme%2Fwidget'), ['npm', '@acme', 'widget']);
    assert.deepEqual(parseRequestPath('/npm/@acme%2fwidget/-/widget-1.0.0.tgz'), ['npm', '@acme', 'widget', '-', 'widget-1.0.0.tgz']);
    for (const bad of ['/npm/a%2Fb', '/npm/@acme%2F..', '/npm/@acme%2Fa%2Fb', '/npm/@%2Fx', '/npm/@acme%2F%2e%2e']) badRequest(() => parseRequestPath(bad));
  });
});

void describe('npm mode: the digest a tarball must have', () => {
  const v = buildVersion('x', { version: '1.0.0' });
  void it('prefers sha512 from dist.integrity, then sha1, then dist.shasum', () => {
    assert.deepEqual(expectedDigest({ integrity: v.integrity, shasum: v.shasum }), { alg: 'sha512', hex: Buffer.from(v.integrity.slice(7), 'base64').toString('hex') });
    const sha1Sri = `sha1-${Buffer.from(v.shasum, 'hex').toString('base64')}`;
    assert.deepEqual(expectedDigest({ integrity: sha1Sri, shasum: undefined }), { alg: 'sha1', hex: v.shasum });
    assert.deepEqual(expectedDigest({ integrity: `${sha1Sri} ${v.integrity}`, shasum: undefined }).alg, 'sha512');
    assert.deepEqual(expectedDigest({ integrity: undefined, shasum: v.shasum.toUpperCase() }), { alg: 'sha1', hex: v.shasum });
    assert.throws(() => expectedDigest({ integrity: undefined, shasum: 'nothex' }), (e) => e instanceof RegcacheError && e.code === 'ERR_UPSTREAM_BAD_RESPONSE');
  });
});
