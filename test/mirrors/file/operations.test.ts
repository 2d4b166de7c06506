/**
 * Running and operating a `file` instance: a cache-proxy configuration file
 * with a `file` instance runs unchanged (validate and serve), the admin API
 * lists cached files and purges a directory of them, and the status page
 * offers curl / wget lines for this server's URL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { bytes, curl, startFileCache, startFromYaml, wget } from './support.js';
import { validateConfig } from '../../cli/run-cli.js';

const TOKEN = 'file-mode-admin-token-0123456789';

let o: FileOrigin;


void describe('file mode: operations', { timeout: 120_000 }, () => {
  before(async () => {
    o = await startFileOrigin();
  });
  after(async () => {
    await o?.close();
  });

  void it('a cache-proxy configuration file with a file instance runs unchanged', async () => {
    const backend = await mkdtemp(join(tmpdir(), 'regcache-cp-backend-'));
    const yaml = `server:
  bind: 127.0.0.1:0
  backend: ${backend}
metrics:
  path: /metrics
instances:
  - name: downloads
    enabled: true
    file:
      route: { path: /dl }
      upstreams:
        - ${o.url}/mirror
      pass_headers: [X-Custom]
      default_policy: revalidate
      fresh_for: 5m
      busy_policy: stale
      expire_after: 720h
      transport:
        ua: custom-agent/1.0
        timeout: 30s
      rules:
        - match: "releases/**/*.zip"
          policy: immutable
          expire_after: 8760h
  - name: npmjs
    enabled: false
    npm:
      route: { path: /npm }
      upstream: https://registry.npmjs.org
`;
    const file = join(await mkdtemp(join(tmpdir(), 'regcache-cp-')), 'cache-proxy.yaml');
    await writeFile(file, yaml);
    const checked = await validateConfig(file);
    assert.equal(checked.code, 0, checked.out);
    const zip = bytes(70_000, 1);
    o.put('/mirror/releases/v1/tool.zip', zip);
    const server = await startFromYaml(yaml);
    try {
      assert.match(server.url, /^http:\/\//, 'plain HTTP, as cache-proxy');
      assert.ok((await curl('-f', '-H', 'X-Custom: 1', `${server.url}/dl/releases/v1/tool.zip`)).stdout.equals(zip));
      assert.ok((await wget(`${server.url}/dl/releases/v1/tool.zip`)).file?.equals(zip));
      assert.equal(o.count('/mirror/releases/v1/tool.zip'), 1);
      const seen = o.requests.find((r) => r.path === '/mirror/releases/v1/tool.zip');
      assert.equal(seen?.headers['user-agent'], 'custom-agent/1.0');
      assert.equal(seen?.headers['x-custom'], '1');
    } finally {
      await server.stop();
    }
  });

  void describe('admin API and status page', () => {
    let p: RegcacheProcess;
    before(async () => {
      p = await startFileCache({ upstreams: [o.url], default_policy: 'immutable' }, { admin: { token: TOKEN } });
    });
    after(async () => {
      await p?.stop();
    });
    const admin = (method: string, path: string) => curl('-f', '-X', method, '-H', `Authorization: Bearer ${TOKEN}`, `${p.url}${path}`);

    void it('lists cached files by path and purges a directory of them', async () => {
      for (const f of ['/ops/a/one.bin', '/ops/a/sub/two.bin', '/ops/b/three.bin']) {
        o.put(f, bytes(1000, f.length));
        await curl('-f', '-o', '/dev/null', `${p.url}/files${f}`);
      }
      const listing = JSON.parse((await admin('GET', '/admin/cache')).stdout.toString()) as { instances: Array<{ instance: string; mode: string; items: Array<{ kind: string; name: string; size: number }> }> };
      const mine = listing.instances.find((i) => i.instance === 'files');
      assert.equal(mine?.mode, 'file');
      assert.deepEqual(mine?.items.map((i) => [i.kind, i.name, i.size]), [
        ['file', 'ops/a/one.bin', 1000],
        ['file', 'ops/a/sub/two.bin', 1000],
        ['file', 'ops/b/three.bin', 1000],
      ]);
      const purged = JSON.parse((await admin('DELETE', '/admin/purge/files/ops/a')).stdout.toString()) as { removed: number };
      assert.equal(purged.removed, 2);
      await curl('-f', '-o', '/dev/null', `${p.url}/files/ops/a/one.bin`);
      await curl('-f', '-o', '/dev/null', `${p.url}/files/ops/b/three.bin`);
      assert.equal(o.count('/ops/a/one.bin'), 2, 'purged: fetched again');
      assert.equal(o.count('/ops/b/three.bin'), 1, 'outside the purged directory: kept');
      const all = JSON.parse((await admin('DELETE', '/admin/purge/files')).stdout.toString()) as { removed: number };
      assert.equal(all.removed, 2, 'what is stored now: one.bin again, and three.bin');
    });

    void it('purges one file by its path, and not a file whose name only starts with it', async () => {
      for (const f of ['/one/x.zip', '/one/x.zip.sha256']) {
        o.put(f, bytes(500, f.length));
        await curl('-f', '-o', '/dev/null', `${p.url}/files${f}`);
      }
      const purged = JSON.parse((await admin('DELETE', '/admin/purge/files/one/x.zip')).stdout.toString()) as { removed: number; target: string; keys: string[] };
      assert.equal(purged.removed, 1, JSON.stringify(purged));
      assert.equal(purged.target, 'one/x.zip');
      const again = JSON.parse((await admin('DELETE', '/admin/purge/files/one/x.zip')).stdout.toString()) as { removed: number };
      assert.equal(again.removed, 0, 'nothing left to purge');
      await curl('-f', '-o', '/dev/null', `${p.url}/files/one/x.zip`);
      await curl('-f', '-o', '/dev/null', `${p.url}/files/one/x.zip.sha256`);
      assert.equal(o.count('/one/x.zip'), 2, 'purged: fetched again');
      assert.equal(o.count('/one/x.zip.sha256'), 1, 'its neighbour stayed cached');
      const hostile = await curl('-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', '-H', `Authorization: Bearer ${TOKEN}`, '--path-as-is', `${p.url}/admin/purge/files/one/%2e%2e/x.zip`);
      assert.match(hostile.stdout.toString(), /^4\d\d$/, 'a hostile path is refused');
    });

    void it('the status page shows curl and wget lines for this server', async () => {
      const page = (await curl('-f', `${p.url}/`)).stdout.toString();
      assert.ok(page.includes(`curl -fL -O ${p.url}/files/path/to/file.tar.gz`), 'curl line');
      assert.ok(page.includes(`wget ${p.url}/files/path/to/file.tar.gz`), 'wget line');
    });
  });
});
