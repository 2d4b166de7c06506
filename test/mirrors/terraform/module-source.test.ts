import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../../src/core/errors.js';
import { formatWithSubdir, isSafeGitRef, parseModuleSource, type ModuleSource } from '../../../src/mirrors/terraform/module-source.js';

const BASE = 'https://registry.example.com/v1/modules/ns/name/aws/1.0.0/download';

function badResponse(err: unknown): boolean {
  return err instanceof RegcacheError && err.code === 'ERR_UPSTREAM_BAD_RESPONSE';
}

const gitCases: Array<[string, ModuleSource]> = [
  ['git::https://example.com/org/repo.git?ref=v1.2.0', { kind: 'git', url: 'https://example.com/org/repo.git', host: 'example.com', ref: 'v1.2.0' }],
  [
    'git::https://Example.COM:8443/org/repo.git//modules/vpc?ref=v1.2.0&depth=1',
    { kind: 'git', url: 'https://example.com:8443/org/repo.git', host: 'example.com:8443', ref: 'v1.2.0', subdir: 'modules/vpc', depth: 1 },
  ],
  ['git::https://example.com:443/repo.git', { kind: 'git', url: 'https://example.com/repo.git', host: 'example.com' }],
  ['git::https://example.com/repo.git?ref=', { kind: 'git', url: 'https://example.com/repo.git', host: 'example.com' }],
  ['git::https://example.com/repo.git?foo=a%20b&ref=main', { kind: 'git', url: 'https://example.com/repo.git?foo=a%20b', host: 'example.com', ref: 'main' }],
  ['git::https://example.com/repo.git?ref=feature%2Fx', { kind: 'git', url: 'https://example.com/repo.git', host: 'example.com', ref: 'feature/x' }],
  ['git::https://github.com/org/repo.git//*?ref=v1', { kind: 'git', url: 'https://github.com/org/repo.git', host: 'github.com', ref: 'v1', subdir: '*' }],
  ['github.com/hashicorp/terraform-aws-consul', { kind: 'git', url: 'https://github.com/hashicorp/terraform-aws-consul.git', host: 'github.com' }],
  ['github.com/org/repo.git?ref=v2', { kind: 'git', url: 'https://github.com/org/repo.git', host: 'github.com', ref: 'v2' }],
  ['github.com/org/repo//sub?ref=x', { kind: 'git', url: 'https://github.com/org/repo.git', host: 'github.com', ref: 'x', subdir: 'sub' }],
  ['github.com/org/repo/extra//sub', { kind: 'git', url: 'https://github.com/org/repo.git', host: 'github.com', subdir: 'extra/sub' }],
  ['git::github.com/org/repo?ref=v3', { kind: 'git', url: 'https://github.com/org/repo.git', host: 'github.com', ref: 'v3' }],
];

const archiveCases: Array<[string, ModuleSource]> = [
  ['https://example.com/m.zip', { kind: 'archive', url: 'https://example.com/m.zip', format: 'zip' }],
  ['https://example.com/m.tar.gz', { kind: 'archive', url: 'https://example.com/m.tar.gz', format: 'tar.gz' }],
  ['https://example.com/m.tgz//sub/dir', { kind: 'archive', url: 'https://example.com/m.tgz', format: 'tar.gz', subdir: 'sub/dir' }],
  ['https://example.com/m.tar.bz2', { kind: 'archive', url: 'https://example.com/m.tar.bz2', format: 'tar.bz2' }],
  ['https://example.com/m.tbz2', { kind: 'archive', url: 'https://example.com/m.tbz2', format: 'tar.bz2' }],
  ['https://example.com/m.tar.xz', { kind: 'archive', url: 'https://example.com/m.tar.xz', format: 'tar.xz' }],
  ['https://example.com/m.txz//*', { kind: 'archive', url: 'https://example.com/m.txz', format: 'tar.xz', subdir: '*' }],
  ['https://example.com/get?archive=tar.gz&x=a%20b+c', { kind: 'archive', url: 'https://example.com/get?x=a%20b+c', format: 'tar.gz' }],
  ['https://example.com/get//sub?v=1&archive=tgz', { kind: 'archive', url: 'https://example.com/get?v=1', format: 'tar.gz', subdir: 'sub' }],
  ['https::https://example.com/get/module?archive=zip', { kind: 'archive', url: 'https://example.com/get/module', format: 'zip' }],
  ['http::https://example.com/m.zip', { kind: 'archive', url: 'https://example.com/m.zip', format: 'zip' }],
  [
    'https://bucket.s3.amazonaws.com/m.zip?X-Amz-Credential=AK%2F2024%7E&X-Amz-Signature=ab12',
    { kind: 'archive', url: 'https://bucket.s3.amazonaws.com/m.zip?X-Amz-Credential=AK%2F2024%7E&X-Amz-Signature=ab12', format: 'zip' },
  ],
];

const relativeCases: Array<[string, ModuleSource]> = [
  ['./m.tar.gz', { kind: 'archive', url: 'https://registry.example.com/v1/modules/ns/name/aws/1.0.0/m.tar.gz', format: 'tar.gz' }],
  ['../m.tgz', { kind: 'archive', url: 'https://registry.example.com/v1/modules/ns/name/aws/m.tgz', format: 'tar.gz' }],
  ['/archives/m.zip//sub?archive=zip', { kind: 'archive', url: 'https://registry.example.com/archives/m.zip', format: 'zip', subdir: 'sub' }],
  ['/archives/get?token=t1&archive=tar.xz', { kind: 'archive', url: 'https://registry.example.com/archives/get?token=t1', format: 'tar.xz' }],
  ['/archives/module', { kind: 'passthrough', reason: 'http source without an archive format' }],
];

const passthroughCases: Array<[string, string]> = [
  ['git::ssh://git@github.com/org/repo.git?ref=v1', 'git over ssh'],
  ['git@github.com:org/repo.git', 'git over ssh'],
  ['git::git@github.com:org/repo.git?ref=v1', 'git over ssh'],
  ['ssh://git@example.com/repo.git', 'git over ssh'],
  ['s3::https://s3-eu-west-1.amazonaws.com/bucket/m.zip', 'forced getter s3::'],
  ['gcs::https://www.googleapis.com/storage/v1/bucket/m.zip', 'forced getter gcs::'],
  ['hg::https://example.com/repo', 'forced getter hg::'],
  ['file::/tmp/module', 'forced getter file::'],
  ['bitbucket.org/org/repo', 'Bitbucket shorthand'],
  ['github.com/org', 'malformed GitHub shorthand'],
  ['https://example.com/module', 'http source without an archive format'],
  ['https://example.com/m.ZIP', 'http source without an archive format'],
  ['https://example.com/m.zip?archive=false', 'unsupported archive=false'],
  ['https://example.com/m.zip?checksum=sha256:abcd', 'checksum parameter'],
  ['git::https://user:token@example.com/repo.git?ref=v1', 'credentials in URL'],
  ['https://user:pw@example.com/m.zip', 'credentials in URL'],
  ['git::https://example.com/repo.git#frag', 'URL fragment'],
  ['git::http://example.com/repo.git?ref=v1', 'plain http'],
  ['http://example.com/m.zip', 'plain http'],
  ['git::https://example.com/repo.git?sshkey=abcd', 'git sshkey parameter'],
  ['git::https://example.com/repo.git?ref=-upload-pack=evil', 'unsupported git ref'],
  ['git::https://example.com/repo.git?ref=HEAD~1', 'unsupported git ref'],
  ['git::https://example.com/repo.git?depth=0', 'invalid git depth'],
  ['git::file:///tmp/repo.git', 'unsupported scheme file'],
  ['git::example.com/repo.git', 'unparseable git URL'],
  ['ftp://example.com/m.zip', 'unsupported scheme ftp'],
  ['registry.example.com/some/module', 'unrecognized source address'],
  ['terraform-aws-modules/vpc/aws', 'unrecognized source address'],
];

void describe('parseModuleSource', () => {
  void it('recognizes git sources over https and the GitHub shorthand', () => {
    for (const [location, expected] of gitCases) assert.deepEqual(parseModuleSource(location, BASE), expected, location);
  });

  void it('recognizes http(s) archives by extension or archive= parameter, keeping other query bytes', () => {
    for (const [location, expected] of archiveCases) assert.deepEqual(parseModuleSource(location, BASE), expected, location);
  });

  void it('resolves registry-relative locations against the download URL', () => {
    for (const [location, expected] of relativeCases) assert.deepEqual(parseModuleSource(location, BASE), expected, location);
  });

  void it('passes everything else through with a reason', () => {
    for (const [location, reason] of passthroughCases) {
      assert.deepEqual(parseModuleSource(location, BASE), { kind: 'passthrough', reason }, location);
    }
  });

  void it('accepts plain http only when allowed', () => {
    const opts = { allowHttp: true };
    assert.deepEqual(parseModuleSource('git::http://127.0.0.1:8080/org/repo.git?ref=v1', BASE, opts), {
      kind: 'git',
      url: 'http://127.0.0.1:8080/org/repo.git',
      host: '127.0.0.1:8080',
      ref: 'v1',
    });
    assert.deepEqual(parseModuleSource('http://127.0.0.1/m.zip', BASE, opts), { kind: 'archive', url: 'http://127.0.0.1/m.zip', format: 'zip' });
    assert.deepEqual(parseModuleSource('./m.zip', 'http://127.0.0.1:9/x/download', opts), { kind: 'archive', url: 'http://127.0.0.1:9/x/m.zip', format: 'zip' });
    assert.deepEqual(parseModuleSource('./m.zip', 'http://127.0.0.1:9/x/download'), { kind: 'passthrough', reason: 'plain http' });
    assert.deepEqual(parseModuleSource('git::ssh://git@127.0.0.1/repo.git', BASE, opts), { kind: 'passthrough', reason: 'git over ssh' });
  });

  void it('rejects subdirs that climb out of the package, and empty locations', () => {
    const bad = [
      'git::https://example.com/repo.git//a/../..?ref=v1',
      'https://example.com/m.zip//..',
      'github.com/org/repo//x/%2e%2e/y',
      'github.com/org/repo/../x',
      './m.zip//../x',
      'https://example.com/m.zip//a\\..\\b',
      '',
      '   ',
      'https://example.com/m\n.zip',
    ];
    for (const location of bad) assert.throws(() => parseModuleSource(location, BASE), badResponse, JSON.stringify(location));
  });
});

void describe('formatWithSubdir', () => {
  void it('puts the subdir before the query string', () => {
    assert.equal(formatWithSubdir('https://h/m.tar.gz', 'sub/dir'), 'https://h/m.tar.gz//sub/dir');
    assert.equal(formatWithSubdir('https://h/m.tar.gz?token=a', 'sub'), 'https://h/m.tar.gz//sub?token=a');
    assert.equal(formatWithSubdir('https://h/m.tar.gz?token=a', '*'), 'https://h/m.tar.gz//*?token=a');
    assert.equal(formatWithSubdir('https://h/m.tar.gz?token=a'), 'https://h/m.tar.gz?token=a');
    assert.equal(formatWithSubdir('https://h/m.tar.gz', ''), 'https://h/m.tar.gz');
  });

  void it('round-trips through parseModuleSource', () => {
    const url = 'https://h.example/cache/m.tar.gz?sig=x%2By';
    assert.deepEqual(parseModuleSource(formatWithSubdir(url, 'modules/a'), BASE), { kind: 'archive', url, format: 'tar.gz', subdir: 'modules/a' });
  });
});

void describe('isSafeGitRef', () => {
  void it('accepts tag and branch names git accepts', () => {
    for (const ref of ['v1.2.0', 'main', 'feature/x-y_z', 'release-2024.01', 'refs/tags/v1', 'a'.repeat(40)]) assert.equal(isSafeGitRef(ref), true, ref);
  });

  void it('refuses options, revision expressions and malformed names', () => {
    for (const ref of ['', '-x', '--upload-pack=x', 'a..b', 'HEAD~1', 'v1^{}', 'a:b', 'a b', 'x.lock', 'a//b', '/a', 'a/', '.hidden', 'a/.b', 'a@{1}', '@', 'x*', 'a\\b', 'a\tb']) {
      assert.equal(isSafeGitRef(ref), false, JSON.stringify(ref));
    }
  });
});
