/**
 * The `oci` block's validation (cache-proxy's keys, defaults and checks),
 * rule precedence (the first matching rule decides, as cache-proxy's
 * resolver), and the issue's example block loading as a whole config
 * file, its `bind` becoming the instance's own listener.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { negotiate } from '../../../src/mirrors/oci/accept.js';
import { parseChallenge } from '../../../src/mirrors/oci/challenge.js';
import { createPolicyResolver } from '../../../src/mirrors/oci/rules.js';
import { ociSettingsSchema, type OciSettings } from '../../../src/mirrors/oci/settings.js';

const H = 3600_000;

void describe('oci settings', () => {
  void it('defaults as cache-proxy: bypass, busy bypass, fresh for 0, no auth, no rules', () => {
    const s = ociSettingsSchema.parse({ upstream: 'https://registry-1.docker.io/' });
    assert.deepEqual(s, { upstream: 'https://registry-1.docker.io', default_policy: 'bypass', fresh_for: 0, busy_policy: 'bypass', rules: [], max_size: 16 * 1024 ** 3, registries: {} });
  });

  void it('refuses what cache-proxy refuses, and unknown keys', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /upstream/],
      [{ upstream: 'ftp://x' }, /http or https/],
      [{ upstream: 'https://x', default_policy: 'cache' }, /bypass, immutable or revalidate/],
      [{ upstream: 'https://x', busy_policy: 'wait' }, /bypass or stale/],
      [{ upstream: 'https://x', fresh_for: '500ms' }, /at least 1s/],
      [{ upstream: 'https://x', auth: { type: 'basic', username: 'u' } }, /username and password/],
      [{ upstream: 'https://x', auth: { type: 'bearer' } }, /requires token/],
      [{ upstream: 'https://x', auth: { type: 'digest' } }, /type/],
      [{ upstream: 'https://x', rules: [{ match: '' }] }, /match is empty/],
      [{ upstream: 'https://x', rules: [{ match: 'a/[b' }] }, /invalid match/],
      [{ upstream: 'https://x', rules: [{ match: 'a', fresh_for: '1m' }] }, /fresh_for/],
      [{ upstream: 'https://x', registries: { 'https://ghcr.io': { upstream: 'https://ghcr.io' } } }, /registries/],
      [{ upstream: 'https://x', colour: 'red' }, /colour/],
    ];
    for (const [input, why] of bad) {
      const r = ociSettingsSchema.safeParse(input);
      assert.equal(r.success, false, JSON.stringify(input));
      assert.match(JSON.stringify(r.error?.issues), why, JSON.stringify(input));
    }
  });

  void it('the first matching rule decides; a rule without policy is bypass', () => {
    const s = ociSettingsSchema.parse({
      upstream: 'https://x',
      default_policy: 'revalidate',
      fresh_for: '10m',
      busy_policy: 'stale',
      rules: [{ match: 'library/*', policy: 'immutable', expire_after: '168h' }, { match: 'library/**' }, { match: 'tmp/**' }],
    });
    const resolve = createPolicyResolver(s, Number.POSITIVE_INFINITY);
    assert.deepEqual(resolve('library/alpine'), { policy: 'immutable', freshForMs: 10 * 60_000, busy: 'stale', expireAfterMs: 168 * H });
    assert.equal(resolve('library/a/b').policy, 'bypass');
    assert.equal(resolve('tmp/x').policy, 'bypass');
    assert.deepEqual(resolve('team/app'), { policy: 'revalidate', freshForMs: 10 * 60_000, busy: 'stale', expireAfterMs: Number.POSITIVE_INFINITY });
  });

  void it('loads the issue example as a config file, bind becoming its own listener', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'regcache-oci-config-'));
    const file = join(dir, 'regcache.yaml');
    await writeFile(
      file,
      [
        'instances:',
        '  - name: dockerhub',
        '    enabled: true',
        '    oci:',
        '      bind: 127.0.0.1:5000',
        '      display_url: https://cache.example.com:5000',
        '      upstream: https://registry-1.docker.io',
        '      default_policy: bypass',
        '      fresh_for: 10m',
        '      busy_policy: stale',
        '      auth: { type: basic, username: u, password: p }',
        '      rules:',
        '        - match: "library/*"',
        '          policy: immutable',
        '          expire_after: 168h',
        '',
      ].join('\n'),
    );
    const config = await loadConfig({ file, env: {}, flags: {} });
    const inst = config.instances.find((i) => i.name === 'dockerhub');
    assert.ok(inst);
    assert.equal(inst.mode, 'oci');
    assert.equal(inst.bind, '127.0.0.1:5000');
    assert.equal(inst.displayUrl, 'https://cache.example.com:5000');
    // Validated once by the loader: the settings are the schema's output.
    const s = inst.settings as OciSettings;
    assert.equal(s.fresh_for, 10 * 60_000);
    assert.deepEqual(s.auth, { type: 'basic', username: 'u', password: 'p' });
  });
});

void describe('oci protocol pieces', () => {
  void it('parses Bearer challenges with quoted commas and escapes; a Bearer without realm is none', () => {
    const c = parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push",error="a \\"b\\""');
    assert.deepEqual(c, { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull,push', error: 'a "b"' } });
    assert.equal(parseChallenge('Bearer service="x"'), undefined);
    assert.deepEqual(parseChallenge('Basic realm="Registry"'), { scheme: 'basic', params: { realm: 'Registry' } });
  });

  void it('negotiates Accept into one canonical set per representation', () => {
    const a = negotiate('application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json;q=0.5');
    const b = negotiate(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json']);
    assert.deepEqual(a, b, 'order and parameters do not matter');
    assert.notEqual(negotiate('application/vnd.oci.image.manifest.v1+json').id, a.id);
    assert.equal(negotiate(undefined).id, negotiate('*/*').id, 'no usable type: the default list');
    assert.match(negotiate(undefined).accept, /application\/vnd\.docker\.distribution\.manifest\.list\.v2\+json/);
  });
});
