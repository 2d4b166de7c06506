/**
 * SSRF through upstream-named URLs (issue 17, point 3), end to end: a module
 * archive whose X-Terraform-Get URL answers 302 to an internal address, a
 * provider zip redirected there, and a hostile registry whose download_url
 * names it outright. The "internal" stand-ins are real servers on 127.0.0.2
 * and ::1; the test policy allows only 127.0.0.1 (where the origins
 * listen), so "origin allowed, internal not" holds on one machine. Every
 * case must answer a JSON error, store nothing, leak no byte, and leave the
 * stand-ins without a single connection.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeTarGz } from '../fakes/tar-gz.js';
import { scriptRegistryProvider, startScriptedServer, type ScriptedServer } from '../fakes/scripted-server.js';
import { assertJsonError, jsonOf } from '../integration/http-client.js';
import { HOST, startHarness, zipPathOf, type Harness } from '../integration/harness.js';
import { report } from './support.js';

const EVIL = 'evil.example';
const SECRET = makeTarGz([{ name: 'main.tf', content: Buffer.from('output "secret" { value = "internal answer" }\n') }]);
/** What an internal service would hand out: larger than the 64 KiB verification holdback. */
const INTERNAL_ZIP = Buffer.alloc(300_000, 7);
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let internal4: ScriptedServer;
let internal6: ScriptedServer;
const standInConnections = (): number => internal4.connections() + internal6.connections();

/** The "internal" services: one on 127.0.0.2, one on ::1, each answering anything with `body`. */
async function startStandIns(): Promise<void> {
  internal4 = await startScriptedServer('127.0.0.2');
  internal6 = await startScriptedServer('::1');
  for (const s of [internal4, internal6]) {
    s.route('/secrets.tar.gz', { headers: { 'content-type': 'application/gzip' }, body: SECRET });
    s.route('/provider.zip', { headers: { 'content-type': 'application/zip' }, body: INTERNAL_ZIP });
  }
}

/** Internal URLs in the spellings an attacker would try, each reaching a stand-in. */
function internalUrls(path: string): Array<[string, string]> {
  return [
    ['plain http to 127.0.0.2', `${internal4.url}${path}`],
    ['https to 127.0.0.2', `https://127.0.0.2:${internal4.port}${path}`],
    ['IPv4-mapped IPv6', `https://[::ffff:127.0.0.2]:${internal4.port}${path}`],
    ['decimal IPv4', `https://2130706434:${internal4.port}${path}`],
    ['IPv6 loopback', `https://[::1]:${internal6.port}${path}`],
  ];
}

/** The module version's archive through regcache: the download answer, then the archive it names. */
async function moduleArchive(h: Harness, name: string): Promise<ReturnType<Harness['get']>> {
  const download = await h.get(`/v1/modules/${HOST}/acme/${name}/aws/1.0.0/download`);
  assert.equal(download.status, 200, download.body.toString());
  const { location } = jsonOf<{ location: string }>(download);
  return h.get(new URL(location).pathname);
}

/** No stored object under the artifact key `fragment` (metadata naming the URL may be cached). */
async function assertNothingStored(h: Harness, fragment: string): Promise<void> {
  await h.settle();
  assert.deepEqual((await h.objectFiles()).filter((f) => f.includes(fragment)), [], `nothing stored under ${fragment}`);
}

void describe('reliability: no upstream-named URL reaches an internal address', () => {
  let h: Harness;
  let evil: ScriptedServer;

  before(async () => {
    await startStandIns();
    evil = await startScriptedServer();
    h = await startHarness({
      providers: [{ namespace: 'acme', type: 'widget', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }] }],
      // A configured http:// upstream is reachable over http without upstream.allowHttp; nothing it names is.
      extraUpstreams: [{ host: EVIL, url: evil.url, unsigned: 'allow' }],
    });
  });

  after(async () => {
    await h?.stop();
    await Promise.all([evil?.stop(), internal4?.stop(), internal6?.stop()]);
  });

  void it('a module archive URL that answers 302 to an internal address: 502 ERR_UPSTREAM_REFUSED, nothing stored or served', async () => {
    let i = 0;
    for (const [label, target] of internalUrls('/secrets.tar.gz')) {
      const name = `redirected${i++}`;
      h.origin.addModule({ namespace: 'acme', name, system: 'aws', versions: ['1.0.0'] });
      h.origin.setFault(`${name}-1.0.0.tar.gz`, { kind: 'redirect', location: target });
      const res = await moduleArchive(h, name);
      assertJsonError(res, 502, 'ERR_UPSTREAM_REFUSED', label);
      assert.ok(!res.body.includes('internal answer'), `${label}: no internal byte served`);
      assert.equal(h.origin.count(`${name}-1.0.0.tar.gz`, 'GET'), 1, `${label}: the registry's URL was asked, its redirect refused`);
      await assertNothingStored(h, `acme/${name}/aws/1.0.0/archive`);
    }
    assert.equal(standInConnections(), 0, 'the internal stand-ins never saw a connection');
  });

  void it('a provider zip that answers 302 to an internal address: 502 ERR_UPSTREAM_REFUSED, no zip byte leaked', async () => {
    const fileName = 'widget_1.0.0_linux_amd64.zip';
    for (const [label, target] of internalUrls('/provider.zip')) {
      h.origin.setFault(fileName, { kind: 'redirect', location: target });
      const res = await h.get(zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64'));
      assertJsonError(res, 502, 'ERR_UPSTREAM_REFUSED', label);
      await assertNothingStored(h, 'acme/widget/1.0.0/linux_amd64/zip');
    }
    h.origin.clearFaults();
    assert.equal(standInConnections(), 0, 'the internal stand-ins never saw a connection');
  });

  void it('a hostile registry whose download_url names an internal address: JSON error, 0 bytes leaked, nothing stored', async () => {
    const filename = 'terraform-provider-evil_1.0.0_linux_amd64.zip';
    let i = 0;
    const answers = [];
    for (const [label, target] of internalUrls('/provider.zip')) {
      const type = `evil${i++}`;
      const file = filename.replace('evil', type);
      scriptRegistryProvider(evil, { namespace: 'acme', type, version: '1.0.0', os: 'linux', arch: 'amd64', filename: file, sha256: sha256(INTERNAL_ZIP), downloadUrl: target });
      answers.push({ label, type, res: await h.get(`/v1/mirror/${EVIL}/acme/${type}/1.0.0/linux_amd64/${file}`) });
    }
    // Measured before asserting, so a run against the old client reports what leaked.
    const leaked = answers.reduce((sum, a) => sum + (a.res.status === 200 ? a.res.body.length : 0), 0);
    report('outbound-policy', { internalDownloadUrls: answers.length, zipBytesLeaked: leaked, standInConnections: standInConnections() });
    for (const { label, type, res } of answers) {
      const body = assertJsonError(res, 502, 'ERR_UPSTREAM_REFUSED', label);
      assert.ok(!body.errors.some((e) => e.includes('?')), 'no query string in the error');
      await assertNothingStored(h, `acme/${type}/1.0.0/linux_amd64/zip`);
    }
    assert.equal(leaked, 0, 'no zip byte reached the client');
    assert.equal(standInConnections(), 0, 'the internal stand-ins never saw a connection');
  });
});

void describe('reliability: upstream.allowHttp lifts the scheme rule, never the address rule', () => {
  let h: Harness;
  let cdn: ScriptedServer;

  before(async () => {
    await startStandIns();
    cdn = await startScriptedServer();
    cdn.route('/public.tar.gz', { headers: { 'content-type': 'application/gzip' }, body: SECRET });
    h = await startHarness({ upstream: { allowHttp: true } });
  });

  after(async () => {
    await h?.stop();
    await Promise.all([cdn?.stop(), internal4?.stop(), internal6?.stop()]);
  });

  void it('a 302 to plain http on an allowed address is followed and cached; one to an internal address is refused', async () => {
    h.origin.addModule({ namespace: 'acme', name: 'public', system: 'aws', versions: ['1.0.0'] });
    h.origin.setFault('public-1.0.0.tar.gz', { kind: 'redirect', location: `${cdn.url}/public.tar.gz` });
    const ok = await moduleArchive(h, 'public');
    assert.equal(ok.status, 200, ok.body.toString().slice(0, 300));
    assert.ok(ok.body.equals(SECRET), 'the allowed answer is served whole');
    await h.settle();
    assert.ok((await h.objectFiles()).some((f) => f.includes('acme/public/aws/1.0.0/archive')), 'and stored');

    h.origin.addModule({ namespace: 'acme', name: 'internal', system: 'aws', versions: ['1.0.0'] });
    h.origin.setFault('internal-1.0.0.tar.gz', { kind: 'redirect', location: `${internal4.url}/secrets.tar.gz` });
    assertJsonError(await moduleArchive(h, 'internal'), 502, 'ERR_UPSTREAM_REFUSED', 'http to 127.0.0.2');
    await assertNothingStored(h, 'acme/internal/aws/1.0.0/archive');
    assert.equal(standInConnections(), 0, 'the internal stand-ins never saw a connection');
  });
});
