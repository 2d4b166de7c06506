/**
 * `instances:` and cache-proxy's file format: a cache-proxy file loads as it
 * is (plain HTTP on server.bind, storage in server.backend, ignored keys
 * reported), modes regcache lacks are clear errors naming the instance, and
 * disabled instances are skipped.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfigReport, type LoadedConfig } from '../../src/config/load.js';
import { runValidate } from '../../src/cli/validate.js';

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'regcache-instances-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(text: string): Promise<string> {
  const f = path.join(dir, `c${++n}.yaml`);
  await writeFile(f, text);
  return f;
}

async function load(text: string): Promise<LoadedConfig> {
  return loadConfigReport({ file: await file(text), env: {}, flags: {} });
}

async function issues(text: string): Promise<string[]> {
  try {
    await load(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues;
  }
  assert.fail('expected a ConfigError');
}

const CACHE_PROXY = `
server:
  bind: 127.0.0.1:18181
  backend: ${'BACKEND'}
  public_url: https://cache.example.test
  status:
    disk_sample_interval: 15m
metrics:
  path: /metrics
  token: secret-metrics-token
storage:
  gc:
    blob: 24h
  cleanup:
    interval: 30m
    dry_run: false
    batch_size: 500
instances:
  - name: npmjs
    enabled: false
    npm:
      route: { path: /npm }
      upstream: https://registry.npmjs.org
  - name: downloads
    enabled: true
    file:
      route: { path: /files }
      upstreams: [https://downloads.example.test]
      expire_after: 48h
      transport: { ua: custom/1.0, timeout: 30s, health: { probe_interval: 2m }, max_idle_conns: 10 }
`;

void describe('cache-proxy configuration format', () => {
  void it('runs unchanged: bind as plain HTTP, backend as storage, only the listed instances', async () => {
    const backend = path.join(dir, 'backend');
    const { config, ignored } = await load(CACHE_PROXY.replace('BACKEND', backend));
    assert.equal(config.server.listen, '127.0.0.1:18181');
    assert.equal(config.server.tls, false);
    assert.equal(config.server.publicUrl, 'https://cache.example.test');
    assert.equal(config.storage.path, backend);
    assert.equal(config.storage.cleanupInterval, 30 * 60_000);
    assert.equal(config.metrics.token, 'secret-metrics-token');
    assert.deepEqual(
      config.instances.map((i) => [i.name, i.mode, i.mount, i.expireAfterMs, i.transport.userAgent, i.transport.timeoutMs]),
      [['downloads', 'file', '/files', 48 * 3_600_000, 'custom/1.0', 30_000]],
      'the disabled npm instance is skipped, and terraform (not listed) does not run',
    );
    assert.equal(config.storage.retentionMode, 'remove');
    for (const key of ['server.status', 'storage.gc', 'storage.cleanup.batch_size', 'instances[1].transport.health', 'instances[1].transport.max_idle_conns']) {
      assert.ok(ignored.some((l) => l.startsWith(`${key}:`)), `${key} reported as ignored: ${ignored.join(' | ')}`);
    }
  });

  void it('defaults to cache-proxy\'s listener when bind is absent, also for a file of metrics and instances only', async () => {
    const { config } = await load('server:\n  backend: /tmp/x\ninstances: []\n');
    assert.equal(config.server.listen, '127.0.0.1:18080');
    assert.deepEqual(config.instances, []);
    const bare = await load('metrics:\n  path: /metrics\ninstances: []\n');
    assert.equal(bare.config.server.listen, '127.0.0.1:18080');
    assert.equal(bare.config.server.tls, false);
    assert.deepEqual(bare.config.instances, [], 'no implicit terraform instance');
  });

  void it('maps cleanup.enabled: false and dry_run: true onto retention', async () => {
    assert.equal((await load('storage:\n  cleanup:\n    enabled: false\ninstances: []\n')).config.storage.retentionMode, 'off');
    assert.equal((await load('storage:\n  cleanup:\n    dry_run: true\ninstances: []\n')).config.storage.retentionMode, 'report');
  });

  void it('validate prints the ignored keys and ok', async () => {
    const out: string[] = [];
    const code = await runValidate(await file(CACHE_PROXY.replace('BACKEND', dir)), {}, {}, { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => out.push(t) } });
    assert.equal(code, 0, out.join(''));
    assert.match(out.join(''), /^ignored: storage\.gc: /m);
    assert.match(out.join(''), /^ok: /m);
  });
});

void describe('instances', () => {
  void it('names the instance and mode when the mode is not available', async () => {
    const list = await issues('instances:\n  - name: flatpak\n    flatpak:\n      upstream: https://dl.flathub.org\n');
    assert.ok(list.some((l) => l.includes('instances[0].flatpak') && l.includes('"flatpak"') && l.includes('not available')), list.join('\n'));
  });

  void it('rejects a block with no mode, two modes, unknown keys, bad names and duplicates', async () => {
    const f = 'file: { route: { path: /f }, upstreams: [https://x.example] }';
    assert.ok((await issues('instances:\n  - name: a\n')).some((l) => l.includes('exactly one mode block')));
    assert.ok((await issues(`instances:\n  - name: a\n    ${f}\n    npm: {}\n`)).some((l) => l.includes('exactly one mode block')));
    assert.ok((await issues(`instances:\n  - name: a\n    ${f}\n    colour: red\n`)).some((l) => l.startsWith('instances[0].colour:')));
    assert.ok((await issues(`instances:\n  - name: A B\n    ${f}\n`)).some((l) => l.startsWith('instances[0].name:')));
    assert.ok((await issues(`instances:\n  - name: a\n    ${f}\n  - name: a\n    ${f}\n`)).some((l) => l.includes('duplicate instance name')));
    assert.ok((await issues('instances:\n  - name: a\n    file: { upstreams: [https://x.example] }\n')).some((l) => l.includes('needs route.path')));
    assert.ok((await issues('instances:\n  - name: a\n    terraform: {}\n')).some((l) => l.includes('top-level terraform: section')));
  });

  void it('reports a mode block\'s own errors under its path, and shared keys too', async () => {
    const list = await issues('instances:\n  - name: a\n    file:\n      upstreams: [https://x.example]\n      fresh_for: soon\n      route: { path: "no-slash" }\n      expire_after: whenever\n');
    for (const p of ['instances[0].file.fresh_for', 'instances[0].file.route.path', 'instances[0].file.expire_after']) {
      assert.ok(list.some((l) => l.startsWith(`${p}:`)), `${p}: ${list.join('\n')}`);
    }
  });

  void it('accepts Go durations, forever and never', async () => {
    const f = (name: string, exp: string): string => `  - name: ${name}\n    file:\n      route: { path: /${name} }\n      upstreams: [https://x.example]\n      expire_after: ${exp}\n`;
    const { config } = await load(`log:\n  level: info\ninstances:\n${f('a', 'never')}${f('b', '1.5h')}`);
    assert.deepEqual(config.instances.filter((i) => i.name !== 'terraform').map((i) => i.expireAfterMs), [Number.POSITIVE_INFINITY, 90 * 60_000]);
  });

  void it('keeps the terraform section running by default in regcache\'s own format', async () => {
    const { config } = await load('log:\n  level: warn\n');
    assert.deepEqual(config.instances.map((i) => [i.name, i.mode, i.mount]), [['terraform', 'terraform', '']]);
  });
});
