import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configLeaves, envVarName, findLeaf, readEnvOverrides } from '../../src/config/env.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { TerraformSettings } from '../../src/mirrors/terraform/settings.js';

/** The Terraform instance's settings (the `terraform:` section). */
function tf(config: Config): TerraformSettings {
  const inst = config.instances.find((i) => i.mode === 'terraform');
  assert.ok(inst, 'the terraform instance runs');
  return inst.settings as TerraformSettings;
}

let dir = '';

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'regcache-env-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Asserts that loading rejects with a ConfigError whose issues match the patterns one by one. */
async function rejectsWith(promise: Promise<unknown>, patterns: readonly RegExp[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.issues.length, patterns.length, err.issues.join('\n'));
    patterns.forEach((pattern, index) => assert.match(err.issues[index] ?? '', pattern));
    return true;
  });
}

async function withFile(yaml: string): Promise<string> {
  const file = path.join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, yaml);
  return file;
}

void describe('environment variable names', () => {
  void it('derives names from schema leaf paths', () => {
    assert.equal(envVarName(['server', 'publicUrl']), 'REGCACHE_SERVER_PUBLIC_URL');
    assert.equal(findLeaf('terraform.metadata.staleIfError')?.envVar, 'REGCACHE_TERRAFORM_METADATA_STALE_IF_ERROR');
    assert.equal(findLeaf('upstream.maxMetadataBytes')?.envVar, 'REGCACHE_UPSTREAM_MAX_METADATA_BYTES');
    assert.equal(findLeaf('server.tls.cert')?.envVar, 'REGCACHE_SERVER_TLS_CERT');
  });

  void it('covers every schema leaf with a unique name and a fitting kind', () => {
    const leaves = configLeaves();
    const keys = leaves.map((leaf) => leaf.key);
    for (const key of ['server.listen', 'server.trustProxy', 'storage.type', 'log.level', 'upstream.bodyTimeout']) {
      assert.ok(keys.includes(key), key);
    }
    assert.equal(new Set(leaves.map((leaf) => leaf.envVar)).size, leaves.length);
    assert.equal(findLeaf('upstream.parallelism')?.kind, 'number');
    assert.equal(findLeaf('server.trustProxy')?.kind, 'boolean');
    assert.equal(findLeaf('terraform.upstreams')?.kind, 'json');
    assert.equal(findLeaf('server.tls')?.kind, 'json');
    assert.equal(findLeaf('terraform.metadata.ttl')?.kind, 'string');
    assert.equal(findLeaf('server'), undefined);
  });
});

void describe('environment overrides', () => {
  void it('coerces numbers, booleans, durations, sizes and JSON lists', async () => {
    const config = await loadConfig({
      env: {
        REGCACHE_UPSTREAM_PARALLELISM: '16',
        REGCACHE_SERVER_TRUST_PROXY: 'true',
        REGCACHE_TERRAFORM_METADATA_TTL: '1h30m',
        REGCACHE_UPSTREAM_MAX_METADATA_BYTES: '2MiB',
        REGCACHE_SERVER_PUBLIC_URL: 'https://cache.example.com/',
        REGCACHE_SERVER_TLS: 'false',
        REGCACHE_TERRAFORM_UPSTREAMS: JSON.stringify([{ host: 'registry.terraform.io', token: 't' }]),
      },
      flags: {},
    });
    assert.equal(config.upstream.parallelism, 16);
    assert.equal(config.server.trustProxy, true);
    assert.equal(tf(config).metadata.ttl, 5_400_000);
    assert.equal(config.upstream.maxMetadataBytes, 2 * 1024 * 1024);
    assert.equal(config.server.publicUrl, 'https://cache.example.com');
    assert.equal(config.server.tls, false);
    assert.deepEqual(tf(config).upstreams, [
      { host: 'registry.terraform.io', url: 'https://registry.terraform.io', token: 't', unsigned: 'refuse' },
    ]);
  });

  void it('overrides the file, field by field', async () => {
    const file = await withFile('server:\n  tls: { cert: a.pem, key: a.key }\nlog:\n  level: warn\n');
    const config = await loadConfig({ file, env: { REGCACHE_SERVER_TLS_KEY: 'b.key' }, flags: {} });
    assert.deepEqual(config.server.tls, { cert: 'a.pem', key: 'b.key' });
    assert.equal(config.log.level, 'warn');
  });

  void it('ignores empty variables', async () => {
    const config = await loadConfig({ env: { REGCACHE_LOG_LEVEL: '', PORT: '' }, flags: {} });
    assert.equal(config.log.level, 'info');
    assert.equal(config.server.listen, '127.0.0.1:8443');
  });

  void it('names the variable in errors', async () => {
    await assert.rejects(
      loadConfig({
        env: {
          REGCACHE_SERVER_TRUST_PROXY: 'yes',
          REGCACHE_TERRAFORM_UPSTREAMS: '[{host:',
          REGCACHE_UPSTREAM_BODY_TIMEOUT: '-1m',
        },
        flags: {},
      }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.issues.length, 3);
        assert.match(err.issues[0] ?? '', /^terraform\.upstreams: REGCACHE_TERRAFORM_UPSTREAMS is not valid JSON/);
        assert.equal(err.issues[1], 'server.trustProxy: expected true or false, got "yes" (from REGCACHE_SERVER_TRUST_PROXY)');
        assert.equal(err.issues[2], 'upstream.bodyTimeout: invalid duration "-1m" (from REGCACHE_UPSTREAM_BODY_TIMEOUT)');
        return true;
      },
    );
  });

  void it('attributes errors inside JSON lists to the variable', async () => {
    await rejectsWith(loadConfig({ env: { REGCACHE_TERRAFORM_UPSTREAMS: '[{"host":"https://x.example"}]' }, flags: {} }), [
      /^terraform\.upstreams\[0\]\.host: .*scheme.*\(from REGCACHE_TERRAFORM_UPSTREAMS\)$/,
    ]);
  });

  void it('lets flags win over the environment', async () => {
    const config = await loadConfig({
      env: { REGCACHE_LOG_LEVEL: 'debug', REGCACHE_SERVER_LISTEN: '0.0.0.0:1', PORT: '2' },
      flags: { logLevel: 'error', set: [{ path: 'server.listen', value: '127.0.0.1:3' }] },
    });
    assert.equal(config.log.level, 'error');
    assert.equal(config.server.listen, '127.0.0.1:3');
  });
});

void describe('aliases', () => {
  void it('PORT replaces the port and keeps the host from the file', async () => {
    const file = await withFile('server:\n  listen: 0.0.0.0:8443\n');
    const config = await loadConfig({ file, env: { PORT: '9090' }, flags: {} });
    assert.equal(config.server.listen, '0.0.0.0:9090');
  });

  void it('PORT keeps the default host and IPv6 brackets', async () => {
    assert.equal((await loadConfig({ env: { PORT: '80' }, flags: {} })).server.listen, '127.0.0.1:80');
    const file = await withFile('server:\n  listen: "[::1]:8443"\n');
    assert.equal((await loadConfig({ file, env: { PORT: '81' }, flags: {} })).server.listen, '[::1]:81');
  });

  void it('rejects a bad PORT naming the alias', async () => {
    await rejectsWith(loadConfig({ env: { PORT: 'http' }, flags: {} }), [
      /^server\.listen: invalid listen address "127\.0\.0\.1:http" .*\(from PORT\)$/,
    ]);
  });

  void it('maps CACHE_DIR and LOG_LEVEL', async () => {
    const config = await loadConfig({ env: { CACHE_DIR: '/var/cache/regcache', LOG_LEVEL: 'warn' }, flags: {} });
    assert.equal(config.storage.path, '/var/cache/regcache');
    assert.equal(config.log.level, 'warn');
  });

  void it('prefers REGCACHE_* over the alias', async () => {
    const config = await loadConfig({
      env: {
        PORT: '1',
        REGCACHE_SERVER_LISTEN: '127.0.0.1:2',
        CACHE_DIR: '/alias',
        REGCACHE_STORAGE_PATH: '/primary',
        LOG_LEVEL: 'warn',
        REGCACHE_LOG_LEVEL: 'error',
      },
      flags: {},
    });
    assert.equal(config.server.listen, '127.0.0.1:2');
    assert.equal(config.storage.path, '/primary');
    assert.equal(config.log.level, 'error');
  });

  void it('reports overrides with their sources', () => {
    const { overrides, issues } = readEnvOverrides({ PORT: '5', LOG_LEVEL: 'debug', UNRELATED: 'x' }, 'example.com:1');
    assert.deepEqual(issues, []);
    assert.deepEqual(overrides, [
      { path: ['server', 'listen'], value: 'example.com:5', source: 'PORT' },
      { path: ['log', 'level'], value: 'debug', source: 'LOG_LEVEL' },
    ]);
  });
});
