/**
 * Two Terraform defects found when tried as a user would:
 * - a download answer whose shasum disagrees with the signed SHA256SUMS was
 *   stored as fresh metadata, so every install failed until `ttl` ran out
 *   even after upstream was fixed;
 * - private registries that serve SHA256SUMS and zips from their own origin
 *   behind the same credential did not work: the credential reached the API
 *   but never the files. It must reach the registry's own origin, and no
 *   other host.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError } from './http-client.js';
import { HOST, startHarness, type Harness } from './harness.js';

const LINUX = [{ os: 'linux', arch: 'amd64' }];
const CLIENT = 'client-token-files-7c1e';

void describe('terraform: an inconsistent download answer is never cached', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ providers: [{ namespace: 'acme', type: 'skew', versions: [{ version: '1.0.0', platforms: LINUX }] }] });
  });
  after(() => h.stop());

  void it('answers 502 while upstream is inconsistent, and 200 as soon as it is fixed, within ttl', async () => {
    const download = `/v1/providers/${HOST}/acme/skew/1.0.0/download/linux/amd64`;
    const versionJson = `/v1/mirror/${HOST}/acme/skew/1.0.0.json`;
    h.origin.setFault('/v1/providers/acme/skew/1.0.0/download/linux/amd64', { kind: 'inconsistentDownload' });
    assertJsonError(await h.get(download), 502, 'ERR_INTEGRITY_MISMATCH');
    assertJsonError(await h.get(versionJson), 502, 'ERR_INTEGRITY_MISMATCH');
    await h.settle();
    assert.ok(!(await h.objectFiles()).some((f) => f.includes('download')), 'no download answer stored');
    const askedWhileBroken = h.origin.count('/download/linux/amd64');

    h.origin.clearFaults();
    const fixed = await h.get(download);
    assert.equal(fixed.status, 200, fixed.body.toString());
    const body = JSON.parse(fixed.body.toString()) as { shasum: string };
    assert.notEqual(body.shasum, 'f'.repeat(64));
    assert.equal((await h.get(versionJson)).status, 200);
    assert.equal(h.origin.count('/download/linux/amd64'), askedWhileBroken + 1, 'upstream asked again once, then cached');
  });
});

void describe('terraform: private registry files behind the same credential', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      providers: [
        { namespace: 'corp', type: 'vault', versions: [{ version: '1.0.0', platforms: LINUX }], token: CLIENT, filesToken: CLIENT },
      ],
    });
  });
  after(() => h.stop());

  void it('forwards the client credential to the registry origin only, and installs', async () => {
    const auth = { headers: { authorization: `Bearer ${CLIENT}` } };
    const download = await h.get(`/v1/providers/${HOST}/corp/vault/1.0.0/download/linux/amd64`, auth);
    assert.equal(download.status, 200, download.body.toString());
    const answer = JSON.parse(download.body.toString()) as { download_url: string; shasums_url: string };
    const zip = await h.get(new URL(answer.download_url).pathname + new URL(answer.download_url).search, auth);
    assert.equal(zip.status, 200, zip.body.toString().slice(0, 200));
    assert.deepEqual(zip.body, h.origin.zipBytes('corp', 'vault', '1.0.0', 'linux', 'amd64'));
    const files = h.origin.requests.filter((r) => r.path.startsWith('/files/'));
    assert.ok(files.length >= 2, 'SHA256SUMS and the zip were fetched');
    assert.ok(files.every((r) => r.server === 'origin' && r.authorization === `Bearer ${CLIENT}`), JSON.stringify(files.map((r) => [r.server, r.path, r.authorization !== undefined])));
  });

  void it('refuses the files without the credential', async () => {
    assertJsonError(await h.get(`/v1/providers/${HOST}/corp/vault/1.0.0/download/linux/amd64`), 401, 'ERR_UNAUTHORIZED');
  });
});
