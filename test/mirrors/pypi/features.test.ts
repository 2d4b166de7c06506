/**
 * The `pypi` mode's optional parts and configuration: `.metadata` sidecars
 * (PEP 658 / 714) served and checked when `proxy_core_metadata` is on and
 * used by pip, `/pypi/<name>/json` with rewritten URLs, `proxy_json: false`
 * (HTML only), yanked files, relative links on the index host, bypass
 * policies, and a cache-proxy configuration file started the README way.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPypiOrigin, type PypiOrigin } from '../../fakes/pypi-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { startFromYaml } from '../file/support.js';
import { fetchText, installedVersion, pipDownload, pipInstall, run, startPypiCache, storedObjects } from './support.js';

let origin: PypiOrigin;

void describe('pypi mode: sidecars, JSON API, configuration', { timeout: 300_000 }, () => {
  before(async () => {
    origin = await startPypiOrigin();
    await origin.publish('meta-top', '1.0.0', ['meta-dep']);
    await origin.publish('meta-dep', '3.0.0');
    await origin.publish('meta-dep', '2.0.0', [], { yanked: 'broken build' });
    await origin.publish('rel-pkg', '0.1.0', [], { relative: true });
  });
  after(async () => {
    await origin?.close();
  });

  void describe('proxy_core_metadata: true', () => {
    let cache: RegcacheProcess;
    before(async () => {
      cache = await startPypiCache(origin, { proxy_core_metadata: true });
    });
    after(async () => {
      await cache?.stop();
    });

    void it('advertises sidecars in both representations, serves them checked, and pip uses them', async () => {
      const html = await fetchText(cache, '/pypi/simple/meta-dep/');
      assert.match(html.body, /data-core-metadata="sha256=[0-9a-f]{64}" data-dist-info-metadata="sha256=[0-9a-f]{64}"/);
      assert.match(html.body, /data-yanked="broken build"/);
      const json = JSON.parse((await fetchText(cache, '/pypi/simple/meta-dep/', { accept: 'application/vnd.pypi.simple.v1+json' })).body) as { files: Array<Record<string, unknown>> };
      const wheel = json.files.find((f) => f.filename === 'meta_dep-3.0.0-py3-none-any.whl');
      assert.match(String((wheel?.['core-metadata'] as Record<string, string>).sha256), /^[0-9a-f]{64}$/);
      assert.equal(json.files.find((f) => f.filename === 'meta_dep-2.0.0-py3-none-any.whl')?.yanked, 'broken build');
      const r = await pipInstall(cache, ['meta-top']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await installedVersion(r.target, 'meta_dep'), '3.0.0', 'the yanked 2.0.0 is not chosen');
      assert.ok(origin.countPrefix('files', '/packages/') > 0);
      const sidecars = origin.requests.filter((q) => q.host === 'files' && q.path.endsWith('.metadata'));
      assert.ok(sidecars.length >= 1, 'pip read the dependency list from a sidecar');
      assert.ok((await storedObjects(cache.dataDir)).some((s) => s.endsWith('.whl.metadata~obj')));
      const side = await fetchText(cache, '/pypi/files/meta-dep/meta_dep-3.0.0-py3-none-any.whl.metadata');
      assert.equal(side.status, 200);
      assert.match(side.body, /^Metadata-Version: 2\.1\nName: meta-dep\nVersion: 3\.0\.0/);
    });

    void it('a tampered sidecar is refused and not stored', async () => {
      const [wheel] = await origin.publish('meta-bad', '1.0.0');
      assert.ok(wheel);
      origin.fault('files', `${origin.pathOf(wheel)}.metadata`, { kind: 'corrupt' });
      try {
        const side = await fetchText(cache, `/pypi/files/meta-bad/${wheel.filename}.metadata`);
        assert.notEqual(side.status, 200);
        assert.deepEqual((await storedObjects(cache.dataDir)).filter((s) => s.startsWith('pypi/meta-bad/files/')), []);
      } finally {
        origin.fault('files', `${origin.pathOf(wheel)}.metadata`, undefined);
      }
    });

    void it('/pypi/<name>/json points its file URLs at regcache', async () => {
      const r = await fetchText(cache, '/pypi/pypi/Meta_Dep/json');
      assert.equal(r.status, 200);
      const doc = JSON.parse(r.body) as { urls: Array<{ url: string }>; releases: Record<string, Array<{ url: string; digests: { sha256: string } }>> };
      const all = [...doc.urls, ...Object.values(doc.releases).flat()];
      assert.ok(all.length >= 4);
      for (const f of all) assert.ok(f.url.startsWith(`${cache.url}/pypi/files/meta-dep/`), f.url);
      assert.equal(origin.count('index', '/pypi/meta-dep/json'), 1);
    });

    void it('relative links on the index host are resolved and served', async () => {
      const r = await pipInstall(cache, ['rel-pkg']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await installedVersion(r.target, 'rel_pkg'), '0.1.0');
      assert.ok(origin.countPrefix('index', '/packages/') >= 1);
      const dl = await pipDownload(cache, ['rel-pkg'], ['--no-deps', '--no-binary', ':all:']);
      assert.ok(origin.requests.some((q) => q.host === 'index' && q.path.endsWith('rel_pkg-0.1.0.tar.gz')), dl.stderr);
    });
  });

  void it('proxy_json: false serves HTML only and no JSON API; sidecars are not advertised by default', async () => {
    const cache = await startPypiCache(origin, { proxy_json: false });
    try {
      const r = await fetchText(cache, '/pypi/simple/meta-dep/', { accept: 'application/vnd.pypi.simple.v1+json' });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'] ?? '', /text\/html/);
      assert.doesNotMatch(r.body, /data-core-metadata|data-dist-info-metadata/);
      assert.equal((await fetchText(cache, '/pypi/pypi/meta-dep/json')).status, 404);
      assert.equal((await fetchText(cache, '/pypi/files/meta-dep/meta_dep-3.0.0-py3-none-any.whl.metadata')).status, 404);
    } finally {
      await cache.stop();
    }
  });

  void it('bypass policies stream pages and files through, checked, storing nothing', async () => {
    const [wheel] = await origin.publish('passing', '1.0.0');
    assert.ok(wheel);
    const cache = await startPypiCache(origin, { index_policy: 'bypass', file_policy: 'bypass' });
    try {
      for (let i = 1; i <= 2; i++) {
        const r = await pipInstall(cache, ['passing']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await installedVersion(r.target, 'passing'), '1.0.0');
        assert.equal(origin.count('files', origin.pathOf(wheel)), i, 'every install downloads again');
      }
      assert.deepEqual(await storedObjects(cache.dataDir), []);
      origin.fault('files', origin.pathOf(wheel), { kind: 'corrupt' });
      const bad = await pipInstall(cache, ['passing']);
      assert.notEqual(bad.code, 0, 'the wrong bytes never complete');
      assert.equal(await installedVersion(bad.target, 'passing'), undefined);
      // regcache cuts the transfer itself (pip's own hash check is not what refuses it).
      const direct = await run('curl', ['-sS', '-o', '/dev/null', '--noproxy', '*', '--cacert', cache.caPath ?? '', `${cache.url}/pypi/files/passing/${wheel.filename}`]);
      assert.notEqual(direct.code, 0, 'curl sees a cut transfer');
    } finally {
      origin.fault('files', origin.pathOf(wheel), undefined);
      await cache.stop();
    }
  });

  void it('a cache-proxy configuration file with a pypi instance runs unchanged', async () => {
    const backend = await mkdtemp(join(tmpdir(), 'regcache-cp-pypi-'));
    const yaml = `server:
  bind: 127.0.0.1:0
  backend: ${backend}
instances:
  - name: pypi
    enabled: true
    pypi:
      route: { path: /pypi }
      upstream: ${origin.indexUrl}
      index_policy: revalidate
      index_fresh_for: 1m
      index_busy_policy: stale
      file_policy: immutable
      companion_policy: revalidate
      companion_fresh_for: 30s
      companion_busy_policy: stale
      proxy_json: true
      proxy_core_metadata: false
      proxy_signatures: false
`;
    const server = await startFromYaml(yaml, { NODE_EXTRA_CA_CERTS: origin.caFile });
    try {
      assert.match(server.url, /^http:\/\//);
      const target = await mkdtemp(join(tmpdir(), 'regcache-pip-cp-'));
      const env = { ...process.env };
      for (const k of Object.keys(env)) if (k.startsWith('PIP_')) delete env[k];
      const r = await run(
        'pip',
        ['--isolated', 'install', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '--trusted-host', '127.0.0.1', '--index-url', `${server.url}/pypi/simple`, '--target', target, 'meta-top'],
        { ...env, PIP_CONFIG_FILE: '/dev/null' },
      );
      assert.equal(r.code, 0, r.stderr + server.output());
      assert.equal(await installedVersion(target, 'meta_dep'), '3.0.0');
    } finally {
      await server.stop();
    }
  });
});
