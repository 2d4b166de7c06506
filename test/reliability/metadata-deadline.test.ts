/**
 * A slow-drip upstream (issue 17, point 8, outbound half): bodyTimeout only
 * measures silence, so an upstream sending one byte just often enough held
 * a metadata read for as long as it liked. upstream.metadataDeadline bounds
 * the whole read. Discovery (client.json) and a module download answer
 * (client.bytes) both drip here, one byte per 200 ms, never silent for the
 * 2 s bodyTimeout; each request must fail with 504 ERR_UPSTREAM_TIMEOUT and
 * the dripping response must be abandoned part-way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startScriptedServer, type ScriptedServer } from '../fakes/scripted-server.js';
import { assertJsonError } from '../integration/http-client.js';
import { startHarness, type Harness } from '../integration/harness.js';
import { report, until } from './support.js';

const DRIP = { bytes: 1, everyMs: 200 };
const DISCOVERY = JSON.stringify({ 'providers.v1': '/v1/providers/', 'modules.v1': '/v1/modules/', padding: ' '.repeat(100) });

void describe('reliability: a slow-drip upstream cannot hold a metadata read past upstream.metadataDeadline', () => {
  let h: Harness;
  let slowDiscovery: ScriptedServer;
  let slowModule: ScriptedServer;

  before(async () => {
    slowDiscovery = await startScriptedServer();
    slowDiscovery.route('/.well-known/terraform.json', { headers: { 'content-type': 'application/json' }, body: DISCOVERY, drip: DRIP });
    slowModule = await startScriptedServer();
    slowModule.route('/.well-known/terraform.json', { headers: { 'content-type': 'application/json' }, body: DISCOVERY });
    slowModule.route('/v1/modules/acme/net/aws/1.0.0/download', { headers: { 'content-type': 'application/json', 'x-terraform-get': 'https://example.com/net.tar.gz' }, body: '{}'.padEnd(100, ' '), drip: DRIP });
    h = await startHarness({
      extraUpstreams: [
        { host: 'drip.example', url: slowDiscovery.url },
        { host: 'slow-module.example', url: slowModule.url },
      ],
      upstream: { metadataDeadline: '1s' },
    });
  });

  after(async () => {
    await h?.stop();
    await Promise.all([slowDiscovery?.stop(), slowModule?.stop()]);
  });

  async function assertAbandoned(server: ScriptedServer, path: string, total: number): Promise<number> {
    const sent = server.sent.find((s) => s.path === path);
    assert.ok(sent !== undefined, `${path} was requested`);
    await until(() => sent.closed, `${path} closed`);
    assert.ok(!sent.finished, `${path}: abandoned, not read to its end`);
    assert.ok(sent.bodyBytes < total, `${path}: ${sent.bodyBytes} of ${total} bytes sent`);
    return sent.bodyBytes;
  }

  void it('dripping discovery (client.json): 504 ERR_UPSTREAM_TIMEOUT, the answer abandoned', async () => {
    assertJsonError(await h.get('/v1/mirror/drip.example/acme/widget/index.json'), 504, 'ERR_UPSTREAM_TIMEOUT', 'discovery');
    const bytes = await assertAbandoned(slowDiscovery, '/.well-known/terraform.json', DISCOVERY.length);
    report('metadata-deadline', { route: 'discovery', bytesSent: bytes, bodyBytes: DISCOVERY.length });
  });

  void it('a dripping module download answer (client.bytes): 504 ERR_UPSTREAM_TIMEOUT, the answer abandoned', async () => {
    assertJsonError(await h.get('/v1/modules/slow-module.example/acme/net/aws/1.0.0/download'), 504, 'ERR_UPSTREAM_TIMEOUT', 'module download');
    const bytes = await assertAbandoned(slowModule, '/v1/modules/acme/net/aws/1.0.0/download', 100);
    report('metadata-deadline', { route: 'module download', bytesSent: bytes, bodyBytes: 100 });
  });
});
