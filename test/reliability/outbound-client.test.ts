/**
 * The upstream client's outbound policy against real loopback servers:
 * redirects are checked hop by hop, a name is judged by the addresses it
 * resolves to (the connector's lookup, so a rebinding name gains nothing),
 * configured origins are told from tolerated ones, and a metadata read has
 * a total deadline however steadily a slow upstream drips. Here 127.0.0.3
 * plays the public internet (allowed), and `localhost` (127.0.0.1) the
 * internal network (refused).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import { HOLDBACK } from '../../src/core/fill.js';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/client.js';
import { createOutboundPolicy, type OutboundPolicySettings } from '../../src/upstream/policy.js';
import { startScriptedServer, type ScriptedServer } from '../fakes/scripted-server.js';
import { report, until } from './support.js';

const ALL_BELOW = 8 * 1024 * 1024;
const DRIP_BODY = `{"versions":[${' '.repeat(200)}]}`;

let origin: ScriptedServer;
let other: ScriptedServer;
let internal: ScriptedServer;
const clients: UpstreamClient[] = [];

function client(policy: Partial<OutboundPolicySettings>, metadataDeadlineMs = 60_000): UpstreamClient {
  const c = createUpstreamClient({
    connectTimeoutMs: 2000,
    headersTimeoutMs: 2000,
    bodyTimeoutMs: 5000,
    metadataDeadlineMs,
    holdBackAllBelow: ALL_BELOW,
    userAgent: 'regcache-test',
    policy: createOutboundPolicy({ allowHttp: false, allowPrivateAddresses: false, allowAddresses: ['127.0.0.3'], configuredUrls: [origin.url], ...policy }),
  });
  clients.push(c);
  return c;
}

async function refusedWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RegcacheError, String(err));
    assert.equal(err.code, 'ERR_UPSTREAM_REFUSED', err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

void describe('reliability: the upstream client applies the outbound policy to every hop and address', () => {
  before(async () => {
    origin = await startScriptedServer('127.0.0.3');
    other = await startScriptedServer('127.0.0.3');
    internal = await startScriptedServer('127.0.0.1');
    internal.route('/secret', { body: 'internal answer' });
    other.route('/file', { body: 'tolerated file' });
    origin.route('/file', { body: 'configured file' });
    origin.route('/to-other', { status: 302, headers: { location: `${other.url}/file` } });
    origin.route('/to-localhost', { status: 302, headers: { location: `http://localhost:${internal.port}/secret` } });
    origin.route('/drip', { headers: { 'content-type': 'application/json' }, body: DRIP_BODY, drip: { bytes: 1, everyMs: 50 } });
    origin.route('/meta', { headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([origin?.stop(), other?.stop(), internal?.stop()]);
  });

  void it('a configured http origin is reachable over http; its answer counts as configured', async () => {
    const c = client({});
    const res = await c.open(`${origin.url}/file`);
    assert.equal((await res.body.toArray()).join(''), 'configured file');
    assert.equal(res.configured, true);
    assert.equal(c.holdBackFor(res), HOLDBACK, 'the usual verification holdback');
  });

  void it('a redirect to plain http on another origin is refused at that hop without upstream.allowHttp', async () => {
    await refusedWith(client({}).open(`${origin.url}/to-other`), /plain http to 127\.0\.0\.3:\d+/);
    assert.equal(other.connections(), 0, 'the redirect target was never contacted');
  });

  void it('with allowHttp, a redirect to an allowed address is followed but counts as tolerated: held back whole', async () => {
    const c = client({ allowHttp: true });
    const res = await c.open(`${origin.url}/to-other`);
    assert.equal((await res.body.toArray()).join(''), 'tolerated file');
    assert.equal(res.configured, false);
    assert.equal(c.holdBackFor(res), ALL_BELOW);
    assert.equal(c.holdBackFor(undefined), ALL_BELOW, 'before the answer is known, too');
  });

  void it('a name is judged by what it resolves to: localhost is refused as loopback, directly and after a redirect', async () => {
    const c = client({ allowHttp: true });
    await refusedWith(c.open(`${origin.url}/to-localhost`), /localhost: 127\.0\.0\.1 is a loopback address/);
    await refusedWith(c.bytes(`http://localhost:${internal.port}/secret`, 1024), /localhost: 127\.0\.0\.1 is a loopback address/);
    assert.equal(internal.connections(), 0, 'the internal server never saw a connection');
    report('outbound-client', { internalConnections: internal.connections() });
  });

  void it('allowPrivateAddresses reaches the same internal server (so the zero above is the policy)', async () => {
    const res = await client({ allowHttp: true, allowPrivateAddresses: true }).bytes(`${origin.url}/to-localhost`, 1024);
    assert.equal(res.body.toString(), 'internal answer');
    assert.ok(internal.connections() > 0);
  });

  void it('a metadata read dripping one byte at a time fails with ERR_UPSTREAM_TIMEOUT at the total deadline', async () => {
    const c = client({}, 1500);
    assert.deepEqual((await c.json(`${origin.url}/meta`, 1024)).json, { ok: true }, 'a prompt answer is read');
    await assert.rejects(c.json(`${origin.url}/drip`, 64 * 1024), (err: unknown) => {
      assert.ok(err instanceof RegcacheError && err.code === 'ERR_UPSTREAM_TIMEOUT', String(err));
      return true;
    });
    const drip = origin.sent.find((s) => s.path === '/drip');
    assert.ok(drip !== undefined);
    await until(() => drip.closed, 'the dripping response closed');
    assert.ok(!drip.finished, 'the dripping answer was abandoned, not read to its end');
    assert.ok(drip.bodyBytes < DRIP_BODY.length, `only ${drip.bodyBytes} of ${DRIP_BODY.length} bytes were sent`);
    report('metadata-deadline-client', { bytesSent: drip.bodyBytes, bodyBytes: DRIP_BODY.length });
  });
});
