/**
 * The real pip through regcache's `pypi` mode: a cold install of a
 * dependency chain whose files live on a separate file host, a warm
 * install with no upstream file request, an install with the origin down
 * served from the cache, and links that keep their hashes and attributes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPypiOrigin, type PypiOrigin } from '../../fakes/pypi-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { fetchText, installedVersion, pipInstall, startPypiCache, storedObjects } from './support.js';

let origin: PypiOrigin;
let cache: RegcacheProcess;

before(async () => {
  origin = await startPypiOrigin();
  await origin.publish('Alpha.Pkg', '1.0.0', ['beta-pkg>=1.0']);
  await origin.publish('beta_pkg', '1.0.0', ['gamma']);
  await origin.publish('gamma', '2.0.0');
  cache = await startPypiCache(origin);
});

after(async () => {
  await cache.stop();
  await origin.close();
});

void test('a cold pip install fetches the chain through regcache; files come from the separate file host', async () => {
  const r = await pipInstall(cache, ['alpha-pkg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(await installedVersion(r.target, 'alpha_pkg'), '1.0.0');
  assert.equal(await installedVersion(r.target, 'beta_pkg'), '1.0.0');
  assert.equal(await installedVersion(r.target, 'gamma'), '2.0.0');
  assert.equal(origin.countPrefix('files', '/packages/'), 3, 'one wheel download per package');
  const stored = await storedObjects(cache.dataDir);
  assert.ok(stored.some((s) => s.includes('gamma-2.0.0-py3-none-any.whl')), stored.join('\n'));
});

void test('a warm install makes no upstream file request', async () => {
  const files = origin.countPrefix('files', '/packages/');
  const r = await pipInstall(cache, ['alpha-pkg']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await installedVersion(r.target, 'gamma'), '2.0.0');
  assert.equal(origin.countPrefix('files', '/packages/'), files);
});

void test('with the origin down, the install is served from the cache', async () => {
  await origin.down();
  try {
    const r = await pipInstall(cache, ['alpha-pkg']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await installedVersion(r.target, 'alpha_pkg'), '1.0.0');
  } finally {
    await origin.up();
  }
});

void test('links point at regcache and keep sha256, requires-python, in both representations; Vary: Accept', async () => {
  const html = await fetchText(cache, '/pypi/simple/gamma/');
  assert.equal(html.status, 200);
  assert.equal(html.headers.vary, 'Accept');
  assert.match(html.headers['content-type'] ?? '', /text\/html/);
  assert.match(html.body, new RegExp(`href="${cache.url}/pypi/files/gamma/gamma-2\\.0\\.0-py3-none-any\\.whl#sha256=[0-9a-f]{64}"`));
  assert.match(html.body, /data-requires-python="&gt;=3\.7"/);
  assert.doesNotMatch(html.body, /127\.0\.0\.1:\d+\/packages/);
  assert.doesNotMatch(html.body, /data-core-metadata|data-dist-info-metadata/, 'sidecars are not advertised when proxy_core_metadata is off');
  const json = await fetchText(cache, '/pypi/simple/gamma/', { accept: 'application/vnd.pypi.simple.v1+html;q=0.5, application/vnd.pypi.simple.v1+json' });
  assert.equal(json.headers['content-type'], 'application/vnd.pypi.simple.v1+json');
  const doc = JSON.parse(json.body) as { files: Array<Record<string, unknown>> };
  const wheel = doc.files.find((f) => f.filename === 'gamma-2.0.0-py3-none-any.whl');
  assert.ok(wheel);
  assert.equal(wheel.url, `${cache.url}/pypi/files/gamma/gamma-2.0.0-py3-none-any.whl`);
  assert.match(String((wheel.hashes as Record<string, string>).sha256), /^[0-9a-f]{64}$/);
  assert.equal(wheel['requires-python'], '>=3.7');
  assert.equal(wheel['core-metadata'], undefined);
  assert.equal(wheel['dist-info-metadata'], undefined);
  const preferHtml = await fetchText(cache, '/pypi/simple/gamma/', { accept: 'application/vnd.pypi.simple.v1+json;q=0.2, text/html' });
  assert.match(preferHtml.headers['content-type'] ?? '', /text\/html/);
});

void test('a non-normalized project name is redirected to the normalized URL', async () => {
  const r = await fetchText(cache, '/pypi/simple/Alpha_Pkg/');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, `${cache.url}/pypi/simple/alpha-pkg/`);
});
