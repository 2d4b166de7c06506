/**
 * End to end: `terraform init` → regcache's `provider_mirror` (started the
 * README way) → the counting relay → Debian's `docker-registry` (token
 * authentication: regcache runs the anonymous token flow), populated by
 * the test with real provider zips in both layouts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { OciRelay } from '../../fakes/oci-relay.js';
import { pushOpenTofuProvider, pushSeedProvider, type PlatformZip } from '../../fakes/provider-mirror-registry.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { readLockFile } from '../../support/terraform.js';
import { blobDownloads, get, initThrough, providerZips, startMirror, startProviderUpstream, storedObjects, type ProviderUpstream } from './support.js';

const REPO = 'terraform-providers/registry.terraform.io';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let upstream: ProviderUpstream;
let relay: OciRelay;
let regcache: RegcacheProcess;
let randomZips: PlatformZip[];
let seedZips: PlatformZip[];
let tamperedDigest: string;
let parallelZips: PlatformZip[];
let liarManifest: string;

const blobGets = (): number => blobDownloads(relay);

void describe('provider_mirror: terraform init from an OCI registry', () => {
  before(async () => {
    upstream = await startProviderUpstream();
    relay = upstream.relay;
    const push = upstream.push;
    liarManifest = (await pushOpenTofuProvider(push, `${REPO}/acme/liar`, '1.0.0', await providerZips('liar', '1.0.0'))).manifests.linux_amd64 ?? '';
    parallelZips = await providerZips('parallel', '0.1.0');
    await pushOpenTofuProvider(push, `${REPO}/acme/parallel`, '0.1.0', parallelZips);
    randomZips = await providerZips('random', '3.6.0');
    await pushOpenTofuProvider(push, `${REPO}/hashicorp/random`, '3.6.0', randomZips);
    await pushOpenTofuProvider(push, `${REPO}/hashicorp/random`, '3.5.1', await providerZips('random', '3.5.1'));
    await pushOpenTofuProvider(push, `${REPO}/hashicorp/random`, '3.7.0+ent.1', await providerZips('random', '3.7.0+ent.1'));
    seedZips = await providerZips('seedling', '1.2.0');
    await pushSeedProvider(push, `${REPO}/acme/seedling`, '1.2.0', seedZips);
    const tamperedZips = await providerZips('tampered', '1.0.0');
    await pushOpenTofuProvider(push, `${REPO}/acme/tampered`, '1.0.0', tamperedZips);
    tamperedDigest = sha256(tamperedZips[0]?.zip ?? Buffer.alloc(0));
    regcache = await startMirror(relay.url);
  });

  after(async () => {
    await regcache?.stop();
    await upstream?.close();
  });

  void it('index.json lists the tags that are versions (OpenTofu "_" read as "+")', async () => {
    const r = await get(regcache, '/oci-mirror/registry.terraform.io/hashicorp/random/index.json');
    assert.equal(r.status, 200, r.body.toString());
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(r.body.toString()), { versions: { '3.5.1': {}, '3.6.0': {}, '3.7.0+ent.1': {} } });
  });

  void it('{version}.json lists every platform with its zh: hash (the layer digest) and a relative URL', async () => {
    const r = await get(regcache, '/oci-mirror/registry.terraform.io/hashicorp/random/3.6.0.json');
    assert.equal(r.status, 200, r.body.toString());
    const expected: Record<string, unknown> = {};
    for (const z of randomZips) {
      const p = `${z.os}_${z.arch}`;
      expected[p] = { url: `3.6.0/${p}/terraform-provider-random_3.6.0_${p}.zip`, hashes: [`zh:${sha256(z.zip)}`] };
    }
    assert.deepEqual(JSON.parse(r.body.toString()), { archives: expected });
    const seed = JSON.parse((await get(regcache, '/oci-mirror/registry.terraform.io/acme/seedling/1.2.0.json')).body.toString()) as { archives: Record<string, { hashes: string[] }> };
    assert.deepEqual(Object.keys(seed.archives).sort(), ['darwin_arm64', 'linux_amd64']);
    assert.deepEqual(seed.archives.linux_amd64?.hashes, [`zh:${sha256(seedZips.find((z) => z.os === 'linux')?.zip ?? Buffer.alloc(0))}`]);
    const plus = await get(regcache, `/oci-mirror/registry.terraform.io/hashicorp/random/${encodeURIComponent('3.7.0+ent.1')}.json`);
    assert.equal(plus.status, 200, plus.body.toString());
  });

  void it('cold init (OpenTofu layout) downloads the zip once, byte-identical; a warm init makes 0 blob GETs', async () => {
    const before = blobGets();
    const cold = await initThrough(regcache, { 'hashicorp/random': '3.6.0' });
    assert.equal(cold.code, 0, cold.stderr + cold.stdout);
    assert.match(cold.stdout, /Installed hashicorp\/random v3\.6\.0/);
    const linux = randomZips.find((z) => z.os === 'linux')?.zip ?? Buffer.alloc(0);
    assert.equal(blobDownloads(relay, sha256(linux)), 1, 'one upstream download of the linux zip');
    assert.equal(blobGets() - before, 1, 'only the platform Terraform installs');
    assert.match(await readLockFile(cold.dir), /h1:/);
    const realm = relay.log.filter((q) => q.path === '/token');
    assert.ok(realm.length >= 1 && realm.every((q) => q.authorization === undefined), 'regcache ran the token flow, anonymously');
    assert.ok(relay.log.filter((q) => q.path.includes('/blobs/') && q.status === 200).every((q) => q.authorization?.startsWith('Bearer ')), 'blobs read with the realm\'s token');
    const served = await get(regcache, '/oci-mirror/registry.terraform.io/hashicorp/random/3.6.0/linux_amd64/terraform-provider-random_3.6.0_linux_amd64.zip');
    assert.equal(served.status, 200);
    assert.ok(served.body.equals(linux), 'served bytes equal the pushed zip');

    const mid = blobGets();
    const asked = relay.log.length;
    const warm = await initThrough(regcache, { 'hashicorp/random': '3.6.0' });
    assert.equal(warm.code, 0, warm.stderr + warm.stdout);
    assert.equal(blobGets(), mid, 'warm init: 0 upstream blob GETs');
    assert.equal(relay.log.length, asked, 'and no request at all while the metadata is fresh');
  });

  void it('installs from the experimental layout (one manifest, platforms in a layer annotation)', async () => {
    const r = await initThrough(regcache, { 'acme/seedling': '1.2.0' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Installed acme\/seedling v1\.2\.0/);
  });

  void it('4 parallel cold inits cause one upstream download of the zip', async () => {
    const runs = await Promise.all(Array.from({ length: 4 }, () => initThrough(regcache, { 'acme/parallel': '0.1.0' })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr + r.stdout);
    const linux = parallelZips.find((z) => z.os === 'linux')?.zip ?? Buffer.alloc(0);
    assert.equal(blobDownloads(relay, sha256(linux)), 1);
  });

  void it('upstream down: a fresh init is served from the cache', async () => {
    relay.down = true;
    try {
      const r = await initThrough(regcache, { 'hashicorp/random': '3.6.0' });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /Installed hashicorp\/random v3\.6\.0/);
    } finally {
      relay.down = false;
    }
  });

  void it('a tampered zip is refused and nothing is stored; once the registry serves it right, init succeeds', async () => {
    relay.tamper = true;
    let bad;
    try {
      bad = await initThrough(regcache, { 'acme/tampered': '1.0.0' });
    } finally {
      relay.tamper = false;
    }
    assert.notEqual(bad.code, 0, 'init must fail on a zip that does not match its digest');
    assert.ok(blobDownloads(relay, tamperedDigest) >= 1, 'the registry was asked');
    assert.equal((await storedObjects(regcache)).filter((f) => f.includes(tamperedDigest)).length, 0, 'nothing stored');
    assert.ok(regcache.logs.some((l) => l.code === 'ERR_INTEGRITY_MISMATCH'), 'integrity failure logged');
    const good = await initThrough(regcache, { 'acme/tampered': '1.0.0' });
    assert.equal(good.code, 0, good.stderr + good.stdout);
    assert.equal((await storedObjects(regcache)).filter((f) => f.includes(tamperedDigest)).length, 1, 'stored once verified');
  });

  void it('a provider the registry does not have: index.json 404 (Terraform\'s soft miss), not cached as a refusal of another kind', async () => {
    const r = await get(regcache, '/oci-mirror/registry.terraform.io/hashicorp/unknown/index.json');
    assert.equal(r.status, 404, r.body.toString());
    assert.ok(relay.count('GET', /^\/v2\/terraform-providers\/registry\.terraform\.io\/hashicorp\/unknown\/tags\/list$/) >= 1, 'asked the registry');
    const v = await get(regcache, '/oci-mirror/registry.terraform.io/hashicorp/random/9.9.9.json');
    assert.equal(v.status, 404, v.body.toString());
  });

  void it('a platform manifest whose bytes do not match its digest is refused (502) and not stored', async () => {
    const path = `/v2/${REPO}/acme/liar/manifests/${liarManifest}`;
    const forged = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [{ mediaType: 'archive/zip', digest: `sha256:${'0'.repeat(64)}`, size: 1 }] }));
    relay.canned.set(path, { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: forged });
    try {
      const r = await get(regcache, '/oci-mirror/registry.terraform.io/acme/liar/1.0.0.json');
      assert.equal(r.status, 502, r.body.toString());
      assert.match(r.body.toString(), /ERR_INTEGRITY_MISMATCH/);
    } finally {
      relay.canned.delete(path);
    }
    assert.equal((await storedObjects(regcache)).filter((f) => f.includes(liarManifest.slice('sha256:'.length))).length, 0, 'nothing stored');
    const good = await get(regcache, '/oci-mirror/registry.terraform.io/acme/liar/1.0.0.json');
    assert.equal(good.status, 200, good.body.toString());
  });

  void it('hostile names, versions and paths are answered 4xx with no request to the registry', async () => {
    const before = relay.log.length;
    const paths = [
      '/oci-mirror/registry.terraform.io/hashicorp/..%2F..%2Fx/index.json',
      '/oci-mirror/registry.terraform.io:5000/hashicorp/random/index.json',
      '/oci-mirror/registry.terraform.io/Hashi_/random/index.json',
      '/oci-mirror/registry.terraform.io/hashicorp/random/latest.json',
      '/oci-mirror/registry.terraform.io/hashicorp/random/3.6.0%2F..json',
      '/oci-mirror/registry.terraform.io/hashicorp/random/3.6.0/linux_amd64/..%2F..%2Fblob.zip',
      '/oci-mirror/registry.terraform.io/hashicorp/random/3.6.0/linux_amd64/other.zip',
      '/oci-mirror/registry.terraform.io/hashicorp/random/3.6.0/linux/terraform-provider-random_3.6.0_linux.zip',
      '/oci-mirror/exa%00mple.com/hashicorp/random/index.json',
      '/oci-mirror/registry.terraform.io/hashicorp/random',
    ];
    for (const p of paths) {
      const r = await get(regcache, p);
      assert.ok(r.status >= 400 && r.status < 500, `${p} → ${r.status}`);
    }
    assert.equal(relay.log.length, before, 'no outbound request');
  });
});
