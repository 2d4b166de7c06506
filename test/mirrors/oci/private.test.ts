/**
 * Private repositories: with `auth: basic` regcache runs the token flow
 * with the configured credential (sent to the token realm only), so what
 * that credential may read is served to the instance's clients; without
 * it the upstream's refusal reaches the client and nothing is stored.
 * The credential never appears in regcache's output.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../../integration/http-client.js';
import { inspectRaw, pull, READER, startOciCache, startUpstream, type OciCache, type Upstream } from './support.js';

const sha = (b: string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let up: Upstream;
let withAuth: OciCache;
let anonymous: OciCache;

void describe('oci mode: private repositories', { timeout: 180_000 }, () => {
  before(async () => {
    up = await startUpstream();
    withAuth = await startOciCache(up.relay.url, { default_policy: 'immutable', auth: { type: 'basic', username: READER.name, password: READER.password } });
    anonymous = await startOciCache(up.relay.url, { default_policy: 'immutable' });
  });
  after(async () => {
    await withAuth?.stop();
    await anonymous?.stop();
    await up?.close();
  });

  void it('pulls a private repository with the configured credential, via the token realm', async () => {
    const l = await up.push('private/app', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'private');
    const t0 = up.token.counts().withCredentials;
    const raw = await inspectRaw(withAuth.host, 'private/app:v1');
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha(raw.stdout), l.top);
    const p = await pull(withAuth.host, 'private/app:v1');
    assert.equal(p.code, 0, p.stderr);
    assert.ok(up.token.counts().withCredentials > t0, 'the token request carried the configured credential');
    const basic = `Basic ${Buffer.from(`${READER.name}:${READER.password}`).toString('base64')}`;
    assert.ok(up.relay.log.filter((r) => r.path !== '/token').every((r) => r.authorization !== basic), 'the basic credential went to the realm only');
    assert.ok(!withAuth.proc.output().includes(READER.password));
  });

  void it('without the credential the refusal reaches the client and nothing is stored', async () => {
    await up.push('private/other', 'v1', [{ os: 'linux', architecture: 'amd64' }], 'private-other');
    const asked = (): number => up.relay.count('GET', /^\/v2\/private\/other\/manifests\/v1$/);
    for (let i = 0; i < 2; i++) {
      const before = asked();
      const res = await rawRequest(anonymous.url, '/v2/private/other/manifests/v1');
      assert.ok(res.status === 401 || res.status === 403, `refused: ${res.status}`);
      assert.ok(asked() > before, 'asked upstream again: nothing was stored or remembered');
    }
    const p = await pull(anonymous.host, 'private/other:v1');
    assert.notEqual(p.code, 0);
  });
});
