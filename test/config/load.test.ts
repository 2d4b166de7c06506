import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, defaultConfig, loadConfig, type ConfigFlags } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { TerraformSettings } from '../../src/mirrors/terraform/settings.js';

/** The Terraform instance's settings (the `terraform:` section). */
function tf(config: Config): TerraformSettings {
  const inst = config.instances.find((i) => i.mode === 'terraform');
  assert.ok(inst, 'the terraform instance runs');
  return inst.settings as TerraformSettings;
}

let dir = '';
let counter = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'regcache-config-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function yamlFile(text: string): Promise<string> {
  counter += 1;
  const file = path.join(dir, `config-${counter}.yaml`);
  await writeFile(file, text);
  return file;
}

async function load(yaml: string | undefined, env: NodeJS.ProcessEnv = {}, flags: ConfigFlags = {}): Promise<Config> {
  const file = yaml === undefined ? undefined : await yamlFile(yaml);
  return loadConfig({ file, env, flags });
}

/** Loads and returns the issues of the ConfigError it must throw. */
async function issuesOf(yaml: string | undefined, env: NodeJS.ProcessEnv = {}, flags: ConfigFlags = {}): Promise<readonly string[]> {
  try {
    await load(yaml, env, flags);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected a ConfigError');
}

void describe('loadConfig defaults', () => {
  void it('applies embedded defaults without a file', async () => {
    const config = await load(undefined);
    assert.equal(config.server.listen, '127.0.0.1:8443');
    assert.equal(config.server.publicUrl, undefined);
    assert.equal(config.server.tls, undefined);
    assert.equal(config.server.shutdownTimeout, 30_000);
    assert.equal(config.server.trustProxy, false);
    assert.equal(config.storage.type, 'fs');
    assert.equal(config.storage.path, path.resolve(process.cwd(), 'data'));
    assert.deepEqual(tf(config).upstreams, []);
    assert.equal(tf(config).metadata.ttl, 600_000);
    assert.equal(tf(config).metadata.staleIfError, 7 * 24 * 3_600_000);
    assert.deepEqual(config.upstream, {
      connectTimeout: 10_000,
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
      maxMetadataBytes: 8 * 1024 * 1024,
      parallelism: 8,
      fillDeadline: 3_600_000,
      metadataDeadline: 60_000,
      allowHttp: false,
      allowPrivateAddresses: false,
      allowAddresses: [],
      holdBackAllBelow: 64 * 1024 * 1024,
    });
    assert.equal(config.log.level, 'info');
  });

  void it('defaultConfig equals loading nothing and is frozen', async () => {
    const config = defaultConfig();
    assert.deepEqual(config, await load(undefined));
    assert.ok(Object.isFrozen(tf(config).upstreams));
  });

  void it('treats an empty file and empty keys as unset', async () => {
    assert.deepEqual(await load(''), defaultConfig());
    const config = await load('server:\n  publicUrl:\nlog:\n');
    assert.equal(config.server.publicUrl, undefined);
    assert.equal(config.log.level, 'info');
  });
});

void describe('loadConfig from a file', () => {
  void it('overrides defaults and normalises values', async () => {
    const config = await load(`
server:
  listen: "[::1]:9000"
  publicUrl: https://Cache.Example.com/mirror/
  tls: { cert: /etc/regcache/server.pem, key: /etc/regcache/server.key }
  shutdownTimeout: 1m
  trustProxy: true
storage:
  path: cache-dir
terraform:
  upstreams:
    - host: Registry.Terraform.IO
      token: abc
    - host: 127.0.0.1:9443
      url: http://127.0.0.1:9443/
      unsigned: allow
  metadata:
    ttl: 0
    staleIfError: 2w
upstream:
  maxMetadataBytes: 1MB
  parallelism: 64
log:
  level: debug
`);
    assert.equal(config.server.listen, '[::1]:9000');
    assert.equal(config.server.publicUrl, 'https://cache.example.com/mirror');
    assert.deepEqual(config.server.tls, { cert: '/etc/regcache/server.pem', key: '/etc/regcache/server.key' });
    assert.equal(config.server.shutdownTimeout, 60_000);
    assert.equal(config.server.trustProxy, true);
    assert.equal(config.storage.path, path.resolve(process.cwd(), 'cache-dir'));
    assert.deepEqual(tf(config).upstreams, [
      { host: 'registry.terraform.io', url: 'https://registry.terraform.io', token: 'abc', unsigned: 'refuse' },
      { host: '127.0.0.1:9443', url: 'http://127.0.0.1:9443', unsigned: 'allow' },
    ]);
    assert.equal(tf(config).metadata.ttl, 0);
    assert.equal(tf(config).metadata.staleIfError, 14 * 24 * 3_600_000);
    assert.equal(config.upstream.maxMetadataBytes, 1_000_000);
    assert.equal(config.upstream.parallelism, 64);
    assert.equal(config.log.level, 'debug');
  });

  void it('accepts tls: false for plain HTTP', async () => {
    assert.equal((await load('server:\n  tls: false\n')).server.tls, false);
  });

  void it('reads server.workers as a number, "auto" or a numeric string (env), and rejects the rest', async () => {
    assert.equal((await load(undefined)).server.workers, 1);
    assert.equal((await load('server:\n  workers: 3\n')).server.workers, 3);
    assert.equal((await load(undefined, { REGCACHE_SERVER_WORKERS: '2' })).server.workers, 2);
    assert.equal((await load('server:\n  workers: auto\n')).server.workers, Math.min(os.availableParallelism(), 64));
    for (const bad of ['0', '65', '1.5', 'many', '-1']) {
      const issues = await issuesOf(`server:\n  workers: ${bad}\n`);
      assert.ok(issues.some((i) => i.includes('server.workers')), `${bad}: ${issues.join('; ')}`);
    }
  });

  void it('returns a deeply frozen object', async () => {
    const config = await load('terraform:\n  upstreams:\n    - host: registry.opentofu.org\n');
    const mutable = config as unknown as { log: { level: string } };
    const upstreams = tf(config).upstreams as unknown as { host: string }[];
    assert.throws(() => {
      mutable.log.level = 'trace';
    }, TypeError);
    assert.throws(() => {
      const first = upstreams[0];
      if (first !== undefined) first.host = 'evil.example';
    }, TypeError);
    assert.throws(() => upstreams.push({ host: 'x' }), TypeError);
    assert.equal(config.log.level, 'info');
  });
});

void describe('loadConfig errors name the key path', () => {
  void it('reports unknown keys at any depth', async () => {
    const issues = await issuesOf('server:\n  foo: 1\nbar: 2\nterraform:\n  upstreams:\n    - host: a.example\n      tokn: x\n');
    assert.deepEqual([...issues].sort(), [
      'bar: unknown key',
      'server.foo: unknown key',
      'terraform.upstreams[0].tokn: unknown key',
    ]);
  });

  void it('reports wrong types', async () => {
    const issues = await issuesOf('server:\n  trustProxy: "yes"\nupstream:\n  parallelism: many\n');
    assert.deepEqual(issues, [
      'server.trustProxy: expected true or false, got "yes"',
      'upstream.parallelism: expected a number, got "many"',
    ]);
  });

  void it('reports bad durations, sizes, enums and ranges', async () => {
    const issues = await issuesOf(`
terraform:
  metadata:
    ttl: 10x
upstream:
  connectTimeout: 600
  maxMetadataBytes: 8 megs
  parallelism: 65
log:
  level: loud
`);
    assert.deepEqual(issues, [
      'upstream.connectTimeout: invalid duration 600 (add a unit, e.g. "600s")',
      'upstream.maxMetadataBytes: invalid size "8 megs"',
      'upstream.parallelism: must be at most 64, got 65',
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
      'terraform.metadata.ttl: invalid duration "10x"',
    ]);
  });

  void it('reports bad listen addresses, URLs and tls values', async () => {
    const issues = await issuesOf(`
server:
  listen: localhost
  publicUrl: https://cache.example.com/?x=1
  tls: { cert: a.pem }
`);
    assert.deepEqual(issues, [
      'server.listen: invalid listen address "localhost" (expected host:port, IPv6 as [::1]:8443)',
      'server.publicUrl: URL must not have a query or fragment',
      'server.tls.key: required',
    ]);
    assert.deepEqual(await issuesOf('server:\n  tls: true\n'), [
      'server.tls: expected {cert, key} file paths, or false for plain HTTP, got true',
    ]);
  });

  void it('reports a YAML syntax error with file and line', async () => {
    const file = await yamlFile('server:\n  listen: 127.0.0.1:1\n  listen: 127.0.0.1:2\n');
    await assert.rejects(loadConfig({ file, env: {}, flags: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues.length, 1);
      assert.match(err.issues[0] ?? '', new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}:3:\\d+: YAML syntax error: `));
      return true;
    });
    const broken = await issuesOf('server: [\n');
    assert.match(broken[0] ?? '', /config-\d+\.yaml:\d+:\d+: YAML syntax error/);
  });

  void it('reports a missing file and a non-mapping document', async () => {
    const missing = path.join(dir, 'nope.yaml');
    await assert.rejects(loadConfig({ file: missing, env: {}, flags: {} }), {
      name: 'ConfigError',
      issues: [`${missing}: cannot read config file (ENOENT)`],
    });
    assert.match((await issuesOf('- a\n- b\n'))[0] ?? '', /expected a mapping of settings at the top level$/);
  });

  void it('reports every problem at once and lists them in the message', async () => {
    const file = await yamlFile('server:\n  foo: 1\nlog:\n  level: 3\n');
    await assert.rejects(loadConfig({ file, env: {}, flags: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues.length, 2);
      assert.match(err.message, /server\.foo: unknown key/);
      assert.match(err.message, /log\.level: expected one of/);
      return true;
    });
  });
});

void describe('upstream host validation', () => {
  const bad: [string, string][] = [
    ['https://registry.terraform.io', 'without a scheme'],
    ['registry.terraform.io/v1', 'without a path'],
    ['user@registry.terraform.io', 'user-info'],
    ['registry terraform.io', 'whitespace'],
    ['registry.terraform.io:99999', 'invalid port'],
    ['-bad-.example', 'not a valid hostname'],
    ['', 'must not be empty'],
  ];
  for (const [host, reason] of bad) {
    void it(`rejects ${JSON.stringify(host)}`, async () => {
      const issues = await issuesOf(`terraform:\n  upstreams:\n    - host: ${JSON.stringify(host)}\n`);
      assert.equal(issues.length, 1);
      assert.match(issues[0] ?? '', /^terraform\.upstreams\[0\]\.host: host /);
      assert.ok(issues[0]?.includes(reason), issues[0]);
    });
  }

  void it('rejects duplicate hosts after lowercasing', async () => {
    const issues = await issuesOf('terraform:\n  upstreams:\n    - host: a.example\n    - host: A.Example\n');
    assert.deepEqual(issues, [
      'terraform.upstreams[1].host: duplicate upstream host "a.example" (also terraform.upstreams[0])',
    ]);
  });

  void it('rejects a bad upstream url and never echoes tokens', async () => {
    const issues = await issuesOf(
      'terraform:\n  upstreams:\n    - host: a.example\n      url: ftp://a.example\n      token: [s3cret]\n',
    );
    assert.deepEqual(issues, [
      'terraform.upstreams[0].url: url must use http or https',
      'terraform.upstreams[0].token: expected a string, got object',
    ]);
    assert.ok(!issues.join('\n').includes('s3cret'));
  });
});

void describe('precedence', () => {
  void it('file < env < flags', async () => {
    const yaml = 'server:\n  listen: 0.0.0.0:1000\nlog:\n  level: warn\nstorage:\n  path: /from-file\n';
    const env = { REGCACHE_LOG_LEVEL: 'debug', REGCACHE_STORAGE_PATH: '/from-env', REGCACHE_SERVER_LISTEN: '0.0.0.0:2000' };
    const config = await load(yaml, env, { logLevel: 'trace', set: [{ path: 'storage.path', value: '/from-set' }] });
    assert.equal(config.log.level, 'trace');
    assert.equal(config.storage.path, '/from-set');
    assert.equal(config.server.listen, '0.0.0.0:2000');
  });

  void it('named flags and --set reach any key and are attributed in errors', async () => {
    const config = await load(undefined, {}, {
      listen: '127.0.0.1:0',
      storagePath: '/srv/cache',
      publicUrl: 'https://mirror.example.com/',
      set: [
        { path: 'terraform.metadata.ttl', value: '5m' },
        { path: 'server.tls', value: 'false' },
        { path: 'upstream.parallelism', value: '3' },
      ],
    });
    assert.equal(config.server.listen, '127.0.0.1:0');
    assert.equal(config.storage.path, '/srv/cache');
    assert.equal(config.server.publicUrl, 'https://mirror.example.com');
    assert.equal(tf(config).metadata.ttl, 300_000);
    assert.equal(config.server.tls, false);
    assert.equal(config.upstream.parallelism, 3);

    const issues = await issuesOf(undefined, {}, {
      listen: 'nowhere',
      set: [
        { path: 'server.nope', value: '1' },
        { path: 'terraform.metadata.ttl', value: '10x' },
      ],
    });
    assert.deepEqual(issues, [
      'server.nope: unknown key (from --set server.nope)',
      'server.listen: invalid listen address "nowhere" (expected host:port, IPv6 as [::1]:8443) (from --listen)',
      'terraform.metadata.ttl: invalid duration "10x" (from --set terraform.metadata.ttl)',
    ]);
  });
});
