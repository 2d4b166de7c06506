/**
 * The `pypi` mode's pure parts: cache-proxy's defaults and refusals, PEP
 * 503 names, Accept negotiation with q-values, reading HTML and JSON
 * project pages (entities, relative links, `<base>`, hashes, yanked,
 * core-metadata, unsafe links dropped), rendering, listing and purge
 * targets, and the status page snippets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromSimpleJson } from '../../../src/mirrors/pypi/index-doc.js';
import { fromSimpleHtml } from '../../../src/mirrors/pypi/index-html.js';
import { describePypi, pypiPurgeTarget, versionOf } from '../../../src/mirrors/pypi/listing.js';
import { checkFilename, checkProjectName, fileKey, normalizeName } from '../../../src/mirrors/pypi/names.js';
import { negotiate, renderHtml, renderJson } from '../../../src/mirrors/pypi/render.js';
import { pypiSettingsSchema } from '../../../src/mirrors/pypi/settings.js';
import { pypiStatus } from '../../../src/mirrors/pypi/snippets.js';

const SHA = 'ab'.repeat(32);
const META = 'cd'.repeat(32);

void describe('pypi mode: settings', () => {
  void it('has cache-proxy defaults', () => {
    assert.deepEqual(pypiSettingsSchema.parse({}), {
      upstream: 'https://pypi.org',
      index_policy: 'revalidate',
      index_fresh_for: 60_000,
      index_busy_policy: 'stale',
      file_policy: 'immutable',
      companion_policy: 'revalidate',
      companion_fresh_for: 30_000,
      companion_busy_policy: 'bypass',
      proxy_json: true,
      proxy_core_metadata: false,
      proxy_signatures: false,
      max_file_size: 4 * 1024 ** 3,
    });
    assert.equal(pypiSettingsSchema.parse({ index_fresh_for: '0s' }).index_fresh_for, 60_000, '0 means the default');
  });

  void it('refuses what cache-proxy refuses, and unknown keys', () => {
    for (const bad of [{ index_policy: 'sometimes' }, { index_busy_policy: 'wait' }, { index_fresh_for: '500ms' }, { upstream: 'ftp://x' }, { upstream: 'https://u:p@x' }, { extra: 1 }]) {
      assert.equal(pypiSettingsSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});

void describe('pypi mode: names', () => {
  void it('normalizes per PEP 503 and checks names', () => {
    assert.equal(normalizeName('Foo.Bar__baz-_-Qux'), 'foo-bar-baz-qux');
    for (const ok of ['a', 'A1', 'zope.interface', 'foo_bar']) assert.equal(checkProjectName(ok), ok);
    for (const bad of ['', '-a', 'a-', 'a b', 'a/b', '..', 'a'.repeat(201), 'é']) assert.throws(() => checkProjectName(bad), /invalid project name/);
    for (const bad of ['..', '.x', 'a/b', 'a:b', 'a..b.whl', 'a%2fb']) assert.throws(() => checkFilename(bad), /invalid file name/);
    assert.equal(checkFilename('pkg-1.0+local!1-py3-none-any.whl'), 'pkg-1.0+local!1-py3-none-any.whl');
  });
});

void describe('pypi mode: negotiation', () => {
  void it('honours q-values, prefers JSON on ties, falls back to HTML', () => {
    assert.equal(negotiate(undefined, true), 'html');
    assert.equal(negotiate('application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01', true), 'json');
    assert.equal(negotiate('application/vnd.pypi.simple.v1+json;q=0.2, text/html', true), 'html');
    assert.equal(negotiate('application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json', true), 'json');
    assert.equal(negotiate('application/vnd.pypi.simple.latest+html', true), 'html-v1');
    assert.equal(negotiate('application/vnd.pypi.simple.v1+json', false), 'html', 'JSON off');
    assert.equal(negotiate('application/vnd.pypi.simple.v1+json;q=0', true), 'html');
    assert.equal(negotiate('image/png', true), 'html');
  });
});

void describe('pypi mode: reading project pages', () => {
  void it('reads PEP 503 HTML with entities, relative links, hashes, yanked and core-metadata', () => {
    const html = `<!DOCTYPE html><html><body>
      <a href="../../packages/x/foo-1.0-py3-none-any.whl#sha256=${SHA.toUpperCase()}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=${META}">foo-1.0-py3-none-any.whl</a><br/>
      <a href="https://files.example.org/p/foo-0.9.tar.gz#md5=00" data-yanked="">foo-0.9.tar.gz</a>
      <a href="https://files.example.org/p/foo-0.8.tar.gz" data-yanked="bad &amp; broken" data-core-metadata="true">foo-0.8.tar.gz</a>
      <a href="javascript:alert(1)">evil.whl</a>
      <a href="file:///etc/passwd">passwd</a>
      <a href="https://user:pw@files.example.org/p/x.whl">x.whl</a>
      <a href="https://files.example.org/p/../odd">../odd</a>
      <a href="https://files.example.org/p/dup.whl">foo-1.0-py3-none-any.whl</a>
    </body></html>`;
    const idx = fromSimpleHtml(html, 'foo', 'https://index.example.org/simple/foo/');
    assert.deepEqual(idx.files, [
      { filename: 'foo-1.0-py3-none-any.whl', url: 'https://index.example.org/packages/x/foo-1.0-py3-none-any.whl', sha256: SHA, requiresPython: '>=3.8', coreMetadata: META },
      { filename: 'foo-0.9.tar.gz', url: 'https://files.example.org/p/foo-0.9.tar.gz', yanked: true },
      { filename: 'foo-0.8.tar.gz', url: 'https://files.example.org/p/foo-0.8.tar.gz', yanked: 'bad & broken', coreMetadata: true },
    ]);
  });

  void it('honours <base href>', () => {
    const idx = fromSimpleHtml('<html><head><base href="https://mirror.example/root/"></head><body><a href="f/a-1.whl#sha256=' + SHA + '">a-1.whl</a></body></html>', 'a', 'https://index.example/simple/a/');
    assert.equal(idx.files[0]?.url, 'https://mirror.example/root/f/a-1.whl');
  });

  void it('reads PEP 691 JSON', () => {
    const idx = fromSimpleJson(
      {
        meta: { 'api-version': '1.1' },
        name: 'foo',
        versions: ['1.0'],
        files: [
          { filename: 'foo-1.0.tar.gz', url: '/p/foo-1.0.tar.gz', hashes: { sha256: SHA }, 'requires-python': '>=3', yanked: 'why', 'dist-info-metadata': { sha256: META }, size: 10 },
          { filename: 'bad/name', url: 'https://x/y', hashes: {} },
          { filename: 'z.whl', url: 'gopher://x/z.whl', hashes: {} },
        ],
      },
      'foo',
      'https://index.example/simple/foo/',
    );
    assert.deepEqual(idx, { name: 'foo', versions: ['1.0'], files: [{ filename: 'foo-1.0.tar.gz', url: 'https://index.example/p/foo-1.0.tar.gz', sha256: SHA, requiresPython: '>=3', yanked: 'why', coreMetadata: META, size: 10 }] });
    assert.throws(() => fromSimpleJson({ meta: {} }, 'foo', 'https://x/'), /no files list/);
  });
});

void describe('pypi mode: rendering', () => {
  const idx = { name: 'foo', files: [{ filename: 'foo-1.0.tar.gz', url: 'https://up/x', sha256: SHA, requiresPython: '<4,>=3.8', yanked: 'a "quoted" reason' as const, coreMetadata: META }] };
  void it('renders links to this server, escaped, with or without core metadata', () => {
    const on = renderHtml(idx, 'https://cache/pypi', true);
    assert.match(on, /<a href="https:\/\/cache\/pypi\/files\/foo\/foo-1\.0\.tar\.gz#sha256=(ab){32}" data-requires-python="&lt;4,&gt;=3\.8" data-yanked="a &quot;quoted&quot; reason" data-core-metadata="sha256=(cd){32}" data-dist-info-metadata="sha256=(cd){32}">foo-1\.0\.tar\.gz<\/a>/);
    assert.doesNotMatch(renderHtml(idx, 'https://cache/pypi', false), /metadata=/);
    assert.deepEqual(fromSimpleHtml(on, 'foo', 'https://cache/pypi/simple/foo/').files[0], { ...idx.files[0], url: 'https://cache/pypi/files/foo/foo-1.0.tar.gz' });
    const json = JSON.parse(renderJson(idx, 'https://cache/pypi', false)) as { files: Array<Record<string, unknown>> };
    assert.deepEqual(json.files[0], { filename: 'foo-1.0.tar.gz', url: 'https://cache/pypi/files/foo/foo-1.0.tar.gz', hashes: { sha256: SHA }, 'requires-python': '<4,>=3.8', yanked: 'a "quoted" reason' });
  });
});

void describe('pypi mode: listing, purge, status', () => {
  void it('lists files by project and version; purges a project', () => {
    const meta = { size: 5, storedAt: 1, sha256: SHA, contentType: 'x' };
    const items = describePypi('py', [
      { key: fileKey('py', 'foo', 'foo-1.0-py3-none-any.whl'), meta, lastAccess: 2 },
      { key: 'pypi/py/foo/index', meta, lastAccess: 2 },
    ] as never);
    assert.deepEqual(items.map((i) => [i.kind, i.name, i.version]), [['file', 'foo', '1.0']]);
    assert.equal(versionOf('foo_bar-2.1.tar.gz'), '2.1');
    assert.deepEqual(pypiPurgeTarget('py', ['Foo_Bar']), { prefixes: ['pypi/py/foo-bar/'], target: 'foo-bar' });
    assert.deepEqual(pypiPurgeTarget('py', []).prefixes, ['pypi/py/']);
    assert.throws(() => pypiPurgeTarget('py', ['a', 'b']), /purge a project/);
  });

  void it('shows pip.conf, pip, uv and Poetry lines for this server', () => {
    const s = pypiStatus('https://cache.example', '/pypi', 'https://pypi.org');
    assert.equal(s.url, 'https://cache.example/pypi/simple/');
    assert.equal(s.snippets.find((x) => x.id === 'pip-conf')?.text, '[global]\nindex-url = https://cache.example/pypi/simple/\n');
    assert.match(s.snippets.find((x) => x.id === 'pip')?.text ?? '', /^pip install --index-url https:\/\/cache\.example\/pypi\/simple\/ /);
    assert.ok(s.snippets.some((x) => x.id === 'uv') && s.snippets.some((x) => x.id === 'poetry'));
  });
});
