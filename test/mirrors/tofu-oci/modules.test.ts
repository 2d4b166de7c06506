/**
 * Modules as OpenTofu `oci://` module packages, pulled with skopeo: a tag
 * per version, one image manifest (artifactType
 * application/vnd.opentofu.modulepkg, no index) with one `archive/zip`
 * layer repacked from the registry's .tar.gz, readable by the real
 * `unzip`, holding the module's files; a warm pull makes no upstream
 * request; the repacked zip is the same bytes every time; the manifest
 * validates against the image-spec schema.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { readTarGz, zipEntries } from '../../../src/mirrors/tofu-oci/tar-to-zip.js';
import { makeTarGz } from '../../fakes/tar-gz.js';
import { loadOciSchemas } from './oci-schemas.js';
import { copyAll, inspectRaw, layoutBlob, parsed, skopeo, startTofuOci, type Manifest, type TofuOciSetup } from './support.js';

const run = promisify(execFile);
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MOD = 'modules/registry.terraform.io/acme/net/aws';
const LIMITS = { maxInflatedBytes: 1 << 20, maxEntries: 100 };

void describe('tofu_oci: modules as oci:// packages', () => {
  let s: TofuOciSetup;
  before(async () => {
    s = await startTofuOci();
    s.origin.addModule({ namespace: 'acme', name: 'net', system: 'aws', versions: ['1.0.0', '1.1.0'] });
  });
  after(async () => {
    await s.stop();
  });

  void it('tags, manifest, zip layer with the module files; warm pull without upstream requests', async () => {
    const tags = parsed<{ Tags: string[] }>(await skopeo('list-tags', '--tls-verify=false', `docker://${s.host}/${MOD}`)).Tags;
    assert.deepEqual(tags, ['1.0.0', '1.1.0']);
    s.origin.reset();
    const raw = await inspectRaw(s.host, `${MOD}:1.1.0`);
    const m = parsed<Manifest>(raw);
    assert.equal(s.origin.count(/\.tar\.gz$/, 'GET'), 1, 'the archive downloaded once');
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(m.artifactType, 'application/vnd.opentofu.modulepkg');
    assert.equal(m.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(m.layers.length, 1);
    assert.equal(m.layers[0]?.mediaType, 'archive/zip');
    const schemas = loadOciSchemas();
    assert.ok(schemas.manifest(m), JSON.stringify(schemas.manifest.errors));
    const dir = join(await mkdtemp(join(tmpdir(), 'regcache-tofu-oci-mod-')), 'layout');
    const copy = await copyAll(s.host, `${MOD}:1.1.0`, dir);
    assert.equal(copy.code, 0, copy.stderr);
    const layer = m.layers[0];
    assert.ok(layer);
    const zip = await layoutBlob(dir, layer.digest);
    assert.equal(sha(zip), layer.digest);
    assert.equal(zip.length, layer.size);
    const file = join(dir, '..', 'module.zip');
    await writeFile(file, zip);
    await run('unzip', ['-t', file]);
    const out = join(dir, '..', 'x');
    await run('unzip', ['-q', file, '-d', out]);
    assert.equal(await readFile(join(out, 'main.tf'), 'utf8'), 'output "version" { value = "1.1.0" }\n');

    s.origin.reset();
    const again = await copyAll(s.host, `${MOD}:1.1.0`, join(dir, '..', 'layout2'));
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(s.origin.requests, [], 'warm: 0 upstream requests');
    const blob = await fetch(`${s.url}/v2/${MOD}/blobs/${layer.digest}`);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(zip));
    assert.equal(blob.headers.get('docker-content-digest'), layer.digest);
  });

  void it('refuses module names that do not fit, with no upstream request', async () => {
    s.origin.reset();
    for (const [path, status] of [
      ['/v2/modules/registry.terraform.io/acme/net/tags/list', 404],
      ['/v2/modules/evil.example/acme/net/aws/tags/list', 404],
      ['/v2/modules/registry.terraform.io/acme/net/aws/manifests/latest', 400],
      [`/v2/modules/registry.terraform.io/acme/net/aws/blobs/sha256:${'1'.repeat(64)}`, 404],
    ] as const) {
      const res = await fetch(`${s.url}${path}`);
      await res.arrayBuffer();
      assert.equal(res.status, status, path);
    }
    assert.deepEqual(s.origin.requests, []);
  });

  void it('repacks deterministically and refuses unsafe tarballs', async () => {
    const tgz = makeTarGz([
      { name: 'main.tf', content: Buffer.from('a') },
      { name: 'sub/vars.tf', content: Buffer.from('variable "x" {}\n'.repeat(50)), mode: 0o600 },
    ]);
    const a = zipEntries(readTarGz(tgz, LIMITS));
    const b = zipEntries(readTarGz(tgz, LIMITS));
    assert.ok(a.equals(b), 'same tarball, same zip bytes');
    const dir = await mkdtemp(join(tmpdir(), 'regcache-tofu-oci-zip-'));
    await writeFile(join(dir, 'a.zip'), a);
    const listing = (await run('unzip', ['-l', join(dir, 'a.zip')])).stdout;
    assert.match(listing, /main\.tf/);
    assert.match(listing, /sub\/vars\.tf/);
    await run('unzip', ['-q', join(dir, 'a.zip'), '-d', join(dir, 'x')]);
    assert.equal(await readFile(join(dir, 'x', 'sub', 'vars.tf'), 'utf8'), 'variable "x" {}\n'.repeat(50));
    for (const name of ['../evil.tf', '/etc/passwd', 'a/../../b']) {
      assert.throws(() => readTarGz(makeTarGz([{ name, content: Buffer.from('x') }]), LIMITS), /unsafe path/, name);
    }
    assert.throws(() => readTarGz(makeTarGz([{ name: 'big', content: Buffer.alloc(2 << 20) }]), LIMITS), /inflate limit/);
    assert.throws(() => readTarGz(Buffer.from('not gzip'), LIMITS), /gzip/);
  });
});
