/**
 * An instance's `transport` (cache-proxy's keys): its outbound requests go
 * through `transport.proxy` (a real CONNECT proxy on loopback) with
 * `transport.ua` as their User-Agent, and only that instance's do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConnectProxy, type ConnectProxy } from '../../fakes/connect-proxy.js';
import { startFileOrigin, type FileOrigin } from '../../fakes/file-origin.js';
import type { RegcacheProcess } from '../../support/regcache-process.js';
import { curl, startFileCache } from './support.js';

void describe('file mode: transport.proxy and transport.ua', () => {
  let origin: FileOrigin;
  let proxy: ConnectProxy;
  let rc: RegcacheProcess;

  before(async () => {
    origin = await startFileOrigin();
    proxy = await startConnectProxy();
    origin.put('/tool.bin', Buffer.from('through the proxy\n'));
    origin.put('/direct.bin', Buffer.from('direct\n'));
    rc = await startFileCache(
      { upstreams: [origin.url], default_policy: 'immutable', transport: { proxy: proxy.url, ua: 'build-farm/2.0' } },
      { instances: [{ name: 'plain', file: { route: { path: '/plain' }, upstreams: [origin.url], default_policy: 'immutable' } }] },
    );
  });
  after(async () => {
    await rc.stop();
    await proxy.close();
    await origin.close();
  });

  void it('tunnels the instance\'s upstream requests through its proxy, with its user agent', async () => {
    const got = await curl('-fsS', `${rc.url}/files/tool.bin`);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout.toString(), 'through the proxy\n');
    const originHost = new URL(origin.url).host;
    assert.deepEqual(proxy.tunnels, [originHost], 'one tunnel, to the origin');
    const seen = origin.requests.filter((r) => r.path === '/tool.bin');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.headers['user-agent'], 'build-farm/2.0');
  });

  void it('leaves other instances on the direct path with regcache\'s user agent', async () => {
    const got = await curl('-fsS', `${rc.url}/plain/direct.bin`);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(proxy.tunnels.length, 1, 'no new tunnel');
    const seen = origin.requests.filter((r) => r.path === '/direct.bin');
    assert.match(String(seen[0]?.headers['user-agent']), /^regcache\//);
  });
});
