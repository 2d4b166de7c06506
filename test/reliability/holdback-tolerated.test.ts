/**
 * How much of an unverified artifact a client sees when the check fails
 * (issue 17, point 3): artifacts from a host the policy only tolerates (a
 * download host an upstream named, not a configured one) are held back
 * whole below upstream.holdBackAllBelow, so a failed check leaks nothing;
 * from a configured origin the usual 64 KiB verification holdback applies.
 * A hostile registry (configured, plain http on 127.0.0.1) names either its
 * own origin or a second loopback server as the download URL.
 *
 * The tolerated case relies on the core honouring `ArtifactRoute.holdBack`
 * (src/core/route.ts); before that, 300 000 − 64 Ki = 234 464 bytes leak.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HOLDBACK } from '../../src/core/fill.js';
import { scriptRegistryProvider, startScriptedServer, type ScriptedServer } from '../fakes/scripted-server.js';
import { assertJsonError, type RawResponse } from '../integration/http-client.js';
import { startHarness, type Harness } from '../integration/harness.js';
import { report } from './support.js';

const HOST = 'hostile.example';
const ZIP = Buffer.alloc(300_000, 9);
const WRONG_SHA = 'a'.repeat(64);
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Zip bytes a client received (0 for a JSON error). */
const zipBytes = (res: RawResponse): number => (String(res.headers['content-type']).startsWith('application/zip') ? res.body.length : 0);

void describe('reliability: a failed check on an artifact from a tolerated host leaks nothing', () => {
  let h: Harness;
  let registry: ScriptedServer;
  let cdn: ScriptedServer;

  before(async () => {
    registry = await startScriptedServer();
    cdn = await startScriptedServer();
    registry.route('/files/p.zip', { headers: { 'content-type': 'application/zip' }, body: ZIP });
    cdn.route('/p.zip', { headers: { 'content-type': 'application/zip' }, body: ZIP });
    h = await startHarness({ extraUpstreams: [{ host: HOST, url: registry.url, unsigned: 'allow' }], upstream: { allowHttp: true } });
  });

  after(async () => {
    await h?.stop();
    await Promise.all([registry?.stop(), cdn?.stop()]);
  });

  async function zipThrough(type: string, sha: string, downloadUrl: string): Promise<RawResponse> {
    const filename = `terraform-provider-${type}_1.0.0_linux_amd64.zip`;
    scriptRegistryProvider(registry, { namespace: 'acme', type, version: '1.0.0', os: 'linux', arch: 'amd64', filename, sha256: sha, downloadUrl });
    const res = await h.get(`/v1/mirror/${HOST}/acme/${type}/1.0.0/linux_amd64/${filename}`);
    await h.settle();
    return res;
  }

  void it('configured origin, wrong checksum: at most all but the usual 64 KiB holdback reaches the client, never the whole zip', async () => {
    const res = await zipThrough('own', WRONG_SHA, '/files/p.zip');
    assert.ok(!(res.complete && res.status === 200), 'never a completed zip');
    assert.ok(zipBytes(res) <= ZIP.length - HOLDBACK, `${zipBytes(res)} bytes, at most ${ZIP.length - HOLDBACK}`);
    report('holdback', { origin: 'configured', artifactBytes: ZIP.length, leakedOnFailedCheck: zipBytes(res) });
  });

  void it('tolerated download host, wrong checksum: 502 ERR_INTEGRITY_MISMATCH with 0 zip bytes', async () => {
    const res = await zipThrough('cdn', WRONG_SHA, `${cdn.url}/p.zip`);
    report('holdback', { origin: 'tolerated', artifactBytes: ZIP.length, leakedOnFailedCheck: zipBytes(res) });
    assert.equal(zipBytes(res), 0, 'nothing of the unverified zip reached the client');
    assertJsonError(res, 502, 'ERR_INTEGRITY_MISMATCH', 'tolerated host');
    assert.equal(cdn.requests.length, 1, 'the tolerated host was asked once');
  });

  void it('tolerated download host, right checksum: served whole once verified, and stored', async () => {
    const res = await zipThrough('good', sha256(ZIP), `${cdn.url}/p.zip`);
    assert.equal(res.status, 200);
    assert.ok(res.complete && res.body.equals(ZIP), 'the whole verified zip');
    assert.ok((await h.objectFiles()).some((f) => f.includes('acme/good/1.0.0/linux_amd64/zip')), 'stored');
  });
});
