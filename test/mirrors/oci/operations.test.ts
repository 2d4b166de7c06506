/**
 * Operating an `oci` instance: a cache-proxy file with the issue's `oci`
 * block validates unchanged; the admin API lists cached images, manifests
 * and blobs and purges a repository's tags (fetched again afterwards, its
 * shared blobs kept); the status page shows Docker, containerd and skopeo
 * configuration for the instance's display URL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../../integration/http-client.js';
import { counts, inspectRaw, pull, startOciCache, startUpstream, type OciCache, type Upstream } from './support.js';
import { validateConfig } from '../../cli/run-cli.js';

const TOKEN = 'oci-mode-admin-token-0123456789';
const DISPLAY = 'https://cache.example.com:5000';

let up: Upstream;
let rc: OciCache;


const admin = (method: string, path: string): Promise<{ status: number; body: unknown }> =>
  rawRequest(rc.proc.url, path, { method, headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => ({ status: r.status, body: JSON.parse(r.body.toString()) as unknown }));

void describe('oci mode: operations', { timeout: 180_000 }, () => {
  before(async () => {
    up = await startUpstream();
    rc = await startOciCache(up.relay.url, { display_url: DISPLAY, default_policy: 'immutable' }, { admin: { token: TOKEN } });
  });
  after(async () => {
    await rc?.stop();
    await up?.close();
  });

  void it('a cache-proxy file with the issue example validates unchanged', async () => {
    const backend = await mkdtemp(join(tmpdir(), 'regcache-cp-backend-'));
    const yaml = `server:
  bind: 127.0.0.1:0
  backend: ${backend}
instances:
  - name: dockerhub
    enabled: true
    oci:
      bind: 127.0.0.1:5000
      display_url: https://cache.example.com:5000
      upstream: https://registry-1.docker.io
      default_policy: bypass
      fresh_for: 10m
      busy_policy: stale
      auth: { type: basic, username: u, password: p }
      rules:
        - match: "library/*"
          policy: immutable
          expire_after: 168h
`;
    const file = join(await mkdtemp(join(tmpdir(), 'regcache-cp-')), 'cache-proxy.yaml');
    await writeFile(file, yaml);
    const checked = await validateConfig(file);
    assert.equal(checked.code, 0, checked.out);
  });

  void it('lists cached images, manifests and blobs; purging a repository fetches its tag again', async () => {
    await up.push('library/ops', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'ops');
    assert.equal((await pull(rc.host, 'library/ops:v1')).code, 0);
    const listing = (await admin('GET', '/admin/cache')).body as { instances: Array<{ instance: string; mode: string; items: Array<{ kind: string; name: string; version: string }> }> };
    const mine = listing.instances.find((i) => i.instance === 'hub');
    assert.equal(mine?.mode, 'oci');
    const kinds = (kind: string): number => mine?.items.filter((i) => i.kind === kind).length ?? 0;
    assert.deepEqual(mine?.items.filter((i) => i.kind === 'image').map((i) => [i.name, i.version]), [['library/ops', 'v1']]);
    assert.equal(kinds('blob'), 3, 'config and two layers');
    const purged = await admin('DELETE', '/admin/purge/hub/library/ops');
    assert.equal(purged.status, 200, JSON.stringify(purged.body));
    assert.equal((purged.body as { removed: number }).removed, 1, 'the tag');
    const c0 = counts(up.relay, 'library/ops');
    assert.equal((await inspectRaw(rc.host, 'library/ops:v1')).code, 0);
    assert.equal(counts(up.relay, 'library/ops').manifestGet - c0.manifestGet, 1, 'the tag was fetched again');
    assert.equal((await pull(rc.host, 'library/ops:v1')).code, 0);
    assert.equal(counts(up.relay, 'library/ops').blobGet - c0.blobGet, 0, 'its blobs stayed');
    const bad = await rawRequest(rc.proc.url, '/admin/purge/hub/Library/%2e%2e', { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bad.status, 400);
  });

  void it('the status page shows Docker, containerd and skopeo configuration for the display URL', async () => {
    const page = (await rawRequest(rc.proc.url, '/')).body.toString();
    for (const text of ['registry-mirrors', 'cache.example.com:5000', 'hosts.toml', 'capabilities', 'skopeo copy docker://cache.example.com:5000/library/alpine:latest']) {
      assert.ok(page.includes(text) || page.includes(text.replace(/"/g, '&quot;')), `status page shows ${text}`);
    }
  });
});
