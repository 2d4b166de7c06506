/**
 * Running the `cargo` mode the README way: a cache-proxy configuration file
 * with the issue's `cargo:` block, unchanged, validated and served to the
 * real cargo; the admin listing and purge of crates; the status page's
 * copy-paste `.cargo/config.toml`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCargoOrigin, type CargoOrigin } from '../../fakes/cargo-origin.js';
import { jsonOf, rawRequest } from '../../integration/http-client.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { startFromYaml } from '../file/support.js';
import { cargoProject, install, startCargoCache } from './support.js';
import { validateConfig } from '../../cli/run-cli.js';

const ADMIN = 'cargo-mode-admin-token-0123456789';


void describe('cargo mode: operations', { timeout: 300_000 }, () => {
  let o: CargoOrigin;
  before(async () => {
    o = await startCargoOrigin({ dlOnIndexHost: true });
    o.publish('leaf', '1.0.0');
    o.publish('top', '1.0.0', { deps: [{ name: 'leaf', req: '1' }] });
  });
  after(async () => {
    await o?.close();
  });

  void it("a cache-proxy configuration file with the issue's cargo block runs unchanged under the real cargo", async () => {
    const backend = await mkdtemp(join(tmpdir(), 'regcache-cp-backend-'));
    const yaml = `server:
  bind: 127.0.0.1:0
  backend: ${backend}
instances:
  - name: crates
    enabled: true
    cargo:
      route: { path: /cargo }
      upstream: ${o.url}
      crate_policy: immutable
      index_fresh_for: 5m
      index_busy_policy: stale
      auth_required: false
`;
    const file = join(await mkdtemp(join(tmpdir(), 'regcache-cp-')), 'cache-proxy.yaml');
    await writeFile(file, yaml);
    const checked = await validateConfig(file);
    assert.equal(checked.code, 0, checked.out);
    const server = await startFromYaml(yaml);
    try {
      assert.match(server.url, /^http:\/\//);
      const project = await cargoProject({ url: server.url, caPath: undefined }, { top: '1' });
      await install(project);
      assert.deepEqual(await project.locked(), ['leaf@1.0.0', 'top@1.0.0']);
      assert.equal(o.count('index', o.dlPath('top', '1.0.0')), 1);
    } finally {
      await server.stop();
    }
  });

  void it('a bad cargo block is refused by validate with the key named', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'regcache-cp-')), 'bad.yaml');
    await writeFile(file, `instances:\n  - name: crates\n    cargo:\n      route: { path: /cargo }\n      upstream: ${o.url}\n      crate_policy: sometimes\n      index_fresh_for: 500ms\n`);
    const checked = await validateConfig(file);
    assert.notEqual(checked.code, 0);
    assert.match(checked.out, /crate_policy/);
    assert.match(checked.out, /index_fresh_for/);
  });

  void describe('admin listing, purge and status page', () => {
    let p: RegcacheProcess;
    before(async () => {
      p = await startCargoCache(o, {}, { server: { tls: false }, admin: { token: ADMIN } });
    });
    after(async () => {
      await p?.stop();
    });
    const admin = (method: string, path: string) => rawRequest(p.url, path, { method, headers: { authorization: `Bearer ${ADMIN}` } });

    void it('lists cached crate versions and purges one crate', async () => {
      await install(await cargoProject(p, { top: '1' }));
      const listing = jsonOf<{ instances: Array<{ instance: string; mode: string; items: Array<{ kind: string; name: string; version: string }> }> }>(await admin('GET', '/admin/cache'));
      const mine = listing.instances.find((i) => i.instance === 'crates');
      assert.equal(mine?.mode, 'cargo');
      assert.deepEqual(mine?.items.map((i) => [i.kind, i.name, i.version]).sort(), [['crate', 'leaf', '1.0.0'], ['crate', 'top', '1.0.0']]);
      const purged = jsonOf<{ removed: number }>(await admin('DELETE', '/admin/purge/crates/top/1.0.0'));
      assert.equal(purged.removed, 1);
      const before = o.count('index', o.dlPath('top', '1.0.0'));
      assert.equal((await rawRequest(p.url, '/cargo/api/v1/crates/top/1.0.0/download')).status, 200);
      assert.equal(o.count('index', o.dlPath('top', '1.0.0')), before + 1, 'purged: downloaded again');
      assert.equal((await admin('DELETE', '/admin/purge/crates/..%2fx')).status, 400);
    });

    void it('the status page shows the .cargo/config.toml for this server', async () => {
      const page = (await rawRequest(p.url, '/')).body.toString();
      assert.ok(page.includes('replace-with = &quot;regcache&quot;') || page.includes('replace-with = "regcache"'), 'source replacement');
      assert.ok(page.includes(`sparse+${p.url}/cargo/`), 'the sparse index URL');
    });
  });
});
