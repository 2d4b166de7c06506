/**
 * The provider network mirror protocol over real sockets: regcache (in
 * process, plain HTTP) in front of the fake HTTPS origin registry.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { providerExecutableContent, providerExecutableName } from '../support/provider-fixtures.js';
import { assertJsonError, jsonOf, type RawResponse } from './http-client.js';
import { mirrorPathOf, providerKeyOf, startHarness, waitFor, zipPathOf, type Harness } from './harness.js';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];
const BIG_EXTRA = 300_000;

interface VersionJson {
  archives: Record<string, { url: string; hashes: string[] }>;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The h1 ("dirhash") of a fixture zip, computed from the executable it holds, independently of regcache. */
function expectedH1(type: string, version: string, os: string, arch: string): string {
  const content = providerExecutableContent({ type, version, os, arch });
  const line = `${sha256(content)}  ${providerExecutableName(type, version)}\n`;
  return `h1:${createHash('sha256').update(line).digest('base64')}`;
}

void describe('integration: network mirror protocol', () => {
  let h: Harness;
  const base = mirrorPathOf('acme', 'widget');
  const zipGets = (name: string): number => h.origin.count((p) => p.endsWith(name), 'GET');
  const ok = (res: RawResponse, what: string): RawResponse => {
    assert.equal(res.status, 200, `${what}: ${res.body.toString('utf8').slice(0, 300)}`);
    assert.ok(res.complete, `${what}: complete`);
    return res;
  };
  const versionJson = async (version: string): Promise<VersionJson> => jsonOf<VersionJson>(ok(await h.get(`${base}/${version}.json`), `${version}.json`));

  before(async () => {
    h = await startHarness({
      providers: [
        {
          namespace: 'acme',
          type: 'widget',
          versions: [
            { version: '1.0.0', platforms: PLATFORMS },
            { version: '1.1.0', platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: BIG_EXTRA },
          ],
        },
        { namespace: 'acme', type: 'big', versions: [{ version: '1.0.0', platforms: PLATFORMS.slice(0, 2), extraBytes: BIG_EXTRA }] },
        {
          namespace: 'acme',
          type: 'pre',
          versions: [
            { version: '2.0.0-beta.1', platforms: [{ os: 'linux', arch: 'amd64' }] },
            { version: '1.0.0+ent', platforms: [{ os: 'linux', arch: 'amd64' }] },
          ],
        },
      ],
    });
  });

  after(async () => {
    await h?.stop();
  });

  void it('index.json lists every upstream version as application/json', async () => {
    const res = ok(await h.get(`${base}/index.json`), 'index.json');
    assert.equal(res.headers['content-type'], 'application/json');
    assert.deepEqual(jsonOf(res), { versions: { '1.0.0': {}, '1.1.0': {} } });
  });

  void it('HEAD on index.json gives its Content-Length and no body', async () => {
    const get = ok(await h.get(`${base}/index.json`), 'GET index.json');
    const head = ok(await h.get(`${base}/index.json`, { method: 'HEAD' }), 'HEAD index.json');
    assert.equal(head.headers['content-type'], 'application/json');
    assert.equal(head.headers['content-length'], String(get.body.length));
    assert.equal(head.body.length, 0);
  });

  void it('{version}.json lists every platform with zh: of the origin zip and a relative url', async () => {
    const res = ok(await h.get(`${base}/1.0.0.json`), '1.0.0.json');
    assert.equal(res.headers['content-type'], 'application/json');
    const doc = jsonOf<VersionJson>(res);
    assert.deepEqual(Object.keys(doc.archives).sort(), ['darwin_arm64', 'linux_amd64', 'windows_amd64']);
    for (const { os, arch } of PLATFORMS) {
      const a = doc.archives[`${os}_${arch}`];
      assert.ok(a);
      assert.deepEqual(a.hashes, [`zh:${sha256(h.origin.zipBytes('acme', 'widget', '1.0.0', os, arch))}`], 'cold: zh only');
      assert.equal(a.url, `1.0.0/${os}_${arch}/terraform-provider-widget_1.0.0_${os}_${arch}.zip`);
      const resolved = new URL(a.url, `${h.app.url}${base}/1.0.0.json`);
      assert.equal(resolved.origin, new URL(h.app.url).origin, 'url stays on the mirror');
      assert.equal(resolved.pathname, zipPathOf('acme', 'widget', '1.0.0', os, arch));
    }
  });

  void it('serves the zip byte-identical; {version}.json then lists its h1: as well', async () => {
    const res = ok(await h.get(zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64')), 'zip');
    const bytes = h.origin.zipBytes('acme', 'widget', '1.0.0', 'linux', 'amd64');
    assert.equal(res.headers['content-type'], 'application/zip');
    assert.ok(res.body.equals(bytes), 'byte-identical to origin');
    const h1 = expectedH1('widget', '1.0.0', 'linux', 'amd64');
    let doc: VersionJson = { archives: {} };
    await waitFor(async () => {
      doc = await versionJson('1.0.0');
      return doc.archives.linux_amd64?.hashes.some((x) => x.startsWith('h1:')) === true;
    }, 'h1: listed for linux_amd64');
    assert.deepEqual(doc.archives.linux_amd64?.hashes, [h1, `zh:${sha256(bytes)}`]);
    assert.deepEqual(doc.archives.darwin_arm64?.hashes.filter((x) => x.startsWith('h1:')), [], 'no h1 for a zip not downloaded');
    await h.settle();
    const files = await h.objectFiles();
    assert.ok(files.includes(`${providerKeyOf('acme', 'widget')}/1.0.0/linux_amd64/zip~obj`), files.join('\n'));
    assert.equal((await h.app.store.stat(`${providerKeyOf('acme', 'widget')}/1.0.0/linux_amd64/zip`))?.sha256, sha256(bytes));
  });

  void it('HEAD gives Content-Length and no body, warm and cold (then GET downloads once)', async () => {
    const warm = ok(await h.get(zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64'), { method: 'HEAD' }), 'warm HEAD');
    const size = h.origin.zipBytes('acme', 'widget', '1.0.0', 'linux', 'amd64').length;
    assert.equal(warm.headers['content-length'], String(size));
    assert.equal(warm.body.length, 0);

    const darwin = h.origin.zipBytes('acme', 'widget', '1.0.0', 'darwin', 'arm64');
    const path = zipPathOf('acme', 'widget', '1.0.0', 'darwin', 'arm64');
    const cold = ok(await h.get(path, { method: 'HEAD' }), 'cold HEAD');
    assert.equal(cold.headers['content-length'], String(darwin.length));
    assert.equal(cold.body.length, 0);
    const got = ok(await h.get(path), 'GET after HEAD');
    assert.ok(got.body.equals(darwin));
    assert.equal(zipGets('widget_1.0.0_darwin_arm64.zip'), 1, 'one upstream download for HEAD + GET');
  });

  void it('Range bytes=0-9 answers 206 with Content-Range', async () => {
    const bytes = h.origin.zipBytes('acme', 'widget', '1.0.0', 'linux', 'amd64');
    const res = await h.get(zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64'), { headers: { range: 'bytes=0-9' } });
    assert.equal(res.status, 206);
    assert.ok(res.complete);
    assert.equal(res.headers['content-range'], `bytes 0-9/${bytes.length}`);
    assert.equal(res.headers['content-length'], '10');
    assert.ok(res.body.equals(bytes.subarray(0, 10)));
  });

  void it('Range requests on a cold large zip are answered while it downloads (one upstream download)', async () => {
    const path = zipPathOf('acme', 'big', '1.0.0', 'darwin', 'arm64');
    const bytes = h.origin.zipBytes('acme', 'big', '1.0.0', 'darwin', 'arm64');
    const [head, tail, mid] = await Promise.all([
      h.get(path, { headers: { range: 'bytes=0-9' } }),
      h.get(path, { headers: { range: 'bytes=-10' } }),
      h.get(path, { headers: { range: 'bytes=100000-100099' } }),
    ]);
    for (const [res, start, end] of [[head, 0, 9], [tail, bytes.length - 10, bytes.length - 1], [mid, 100_000, 100_099]] as const) {
      assert.equal(res.status, 206, res.body.toString('utf8').slice(0, 200));
      assert.ok(res.complete);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${bytes.length}`);
      assert.ok(res.body.equals(bytes.subarray(start, end + 1)), `bytes ${start}-${end}`);
    }
    assert.equal(zipGets('big_1.0.0_darwin_arm64.zip'), 1);
  });

  void it('a Range past the end answers 416 JSON', async () => {
    const res = await h.get(zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64'), { headers: { range: 'bytes=99999999-' } });
    assertJsonError(res, 416, 'ERR_RANGE_NOT_SATISFIABLE', 'range past the end');
  });

  void it('If-None-Match with the ETag answers 304 without a body', async () => {
    const path = zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64');
    const bytes = h.origin.zipBytes('acme', 'widget', '1.0.0', 'linux', 'amd64');
    const first = ok(await h.get(path), 'GET');
    assert.equal(first.headers.etag, `"${sha256(bytes)}"`);
    const again = await h.get(path, { headers: { 'if-none-match': String(first.headers.etag) } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const other = ok(await h.get(path, { headers: { 'if-none-match': '"0000"' } }), 'other etag');
    assert.ok(other.body.equals(bytes));
  });

  void it('an unknown version or provider answers 404 JSON and caches nothing', async () => {
    assertJsonError(await h.get(`${base}/9.9.9.json`), 404, 'ERR_NOT_FOUND', '9.9.9.json');
    assertJsonError(await h.get(zipPathOf('acme', 'widget', '9.9.9', 'linux', 'amd64')), 404, /^ERR_(UPSTREAM_)?NOT_FOUND$/, '9.9.9 zip');
    assertJsonError(await h.get(`${mirrorPathOf('acme', 'nope')}/index.json`), 404, 'ERR_UPSTREAM_NOT_FOUND', 'unknown provider');
    assertJsonError(await h.get(zipPathOf('acme', 'widget', '1.0.0', 'linux', 'arm64')), 404, /^ERR_(UPSTREAM_)?NOT_FOUND$/, 'unknown platform');
    await h.settle();
    const files = await h.objectFiles();
    assert.deepEqual(files.filter((f) => f.includes('/9.9.9/') || f.includes('/nope/') || f.includes('linux_arm64')), []);
  });

  void it('concurrent cold requests for a large zip share one upstream download and all get identical bytes', async () => {
    const path = zipPathOf('acme', 'widget', '1.1.0', 'linux', 'amd64');
    const bytes = h.origin.zipBytes('acme', 'widget', '1.1.0', 'linux', 'amd64');
    assert.ok(bytes.length > BIG_EXTRA, 'large enough to stream before verification');
    const all = await Promise.all(Array.from({ length: 8 }, () => h.get(path)));
    for (const r of all) {
      ok(r, 'concurrent GET');
      assert.ok(r.body.equals(bytes));
    }
    assert.equal(zipGets('widget_1.1.0_linux_amd64.zip'), 1);
  });

  void it('a client that goes away mid-download does not stop the fill: the zip is committed and later served without upstream', async () => {
    const path = zipPathOf('acme', 'big', '1.0.0', 'linux', 'amd64');
    const bytes = h.origin.zipBytes('acme', 'big', '1.0.0', 'linux', 'amd64');
    h.origin.setFault('big_1.0.0_linux_amd64.zip', { kind: 'hangBody', afterBytes: 200_000 });
    const gone = await h.get(path, { abortAfterBytes: 1 });
    assert.ok(!gone.complete, 'the client hung up early');
    h.origin.clearFaults();
    await h.settle();
    assert.equal((await h.app.store.stat(`${providerKeyOf('acme', 'big')}/1.0.0/linux_amd64/zip`))?.sha256, sha256(bytes));
    const before = h.origin.requests.length;
    const again = ok(await h.get(path), 'GET after the first client left');
    assert.ok(again.body.equals(bytes));
    assert.equal(h.origin.requests.length, before, 'served from the cache');
    assert.equal(zipGets('big_1.0.0_linux_amd64.zip'), 1);
  });

  void it('pre-release and build-metadata versions round-trip through index.json, {version}.json and the zip url', async () => {
    const pre = mirrorPathOf('acme', 'pre');
    assert.deepEqual(Object.keys(jsonOf<{ versions: object }>(ok(await h.get(`${pre}/index.json`), 'pre index')).versions).sort(), ['1.0.0+ent', '2.0.0-beta.1']);
    for (const version of ['2.0.0-beta.1', '1.0.0+ent']) {
      const docUrl = `${h.app.url}${pre}/${version}.json`;
      const doc = jsonOf<VersionJson>(ok(await h.get(new URL(docUrl).pathname), `${version}.json`));
      const a = doc.archives.linux_amd64;
      assert.ok(a, `${version}: linux_amd64 listed`);
      const bytes = h.origin.zipBytes('acme', 'pre', version, 'linux', 'amd64');
      assert.ok(a.hashes.includes(`zh:${sha256(bytes)}`));
      const zip = ok(await h.get(new URL(a.url, docUrl).pathname), `${version} zip`);
      assert.ok(zip.body.equals(bytes), `${version}: byte-identical`);
    }
  });

  void it('warm requests (zip GET/HEAD/Range, index.json, {version}.json) make zero origin requests', async () => {
    await h.settle();
    const before = h.origin.requests.length;
    const path = zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64');
    ok(await h.get(path), 'warm GET');
    ok(await h.get(path, { method: 'HEAD' }), 'warm HEAD');
    assert.equal((await h.get(path, { headers: { range: 'bytes=5-' } })).status, 206);
    ok(await h.get(`${base}/index.json`), 'warm index');
    ok(await h.get(`${base}/1.0.0.json`), 'warm version');
    ok(await h.get(`${base}/1.1.0.json`), 'warm version');
    assert.deepEqual(h.origin.requests.slice(before), []);
  });

  void it('discovery was fetched exactly once across all requests', () => {
    assert.ok(h.origin.requests.length > 5);
    assert.equal(h.origin.count('/.well-known/terraform.json'), 1);
  });
});
