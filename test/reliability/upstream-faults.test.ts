/**
 * Upstream faults test/integration does not cover yet: metadata answers
 * larger than upstream.maxMetadataBytes (announced and chunked), a provider
 * whose SHA256SUMS.sig is missing (404) or refused (403), and 429 + Retry-After on a zip. For each:
 * what the client gets, the log line, that nothing is committed, and that
 * the same request succeeds once the fault is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, jsonOf, type RawResponse } from '../integration/http-client.js';
import { mirrorPathOf, providerKeyOf, startHarness, waitFor, zipPathOf, type Harness, type LogLine } from '../integration/harness.js';
import { report } from './support.js';
import { BIG_BYTES, STREAM_BYTES, startScriptedUpstream, writeCaBundle, type ScriptedUpstream } from './tls-servers.js';

const BIG_HOST = 'big.example';
const TWO = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];
const LIMIT = 64 * 1024;

void describe('reliability: upstream faults beyond test/integration', () => {
  let h: Harness;
  let shim: ScriptedUpstream;
  let bundle: Awaited<ReturnType<typeof writeCaBundle>> | undefined;
  const previousCa = process.env.NODE_EXTRA_CA_CERTS;
  let tried = 0;

  const logged = (pred: (l: LogLine) => boolean): LogLine[] => h.logs.filter(pred);
  const requestLine = (path: string, status: number): LogLine | undefined => h.logs.find((l) => l.msg === 'request' && l.path === path && l.status === status);
  const get = async (path: string, headers: Record<string, string> = {}): Promise<RawResponse> => {
    tried++;
    return h.get(path, { headers });
  };

  before(async () => {
    shim = await startScriptedUpstream();
    h = await startHarness({
      // Latency on every origin answer, so concurrent clients reliably share one upstream request.
      originOptions: { latencyMs: 100 },
      metadata: { ttl: '0s', staleIfError: '1h' },
      upstream: { maxMetadataBytes: '64KiB' },
      extraUpstreams: [{ host: BIG_HOST, url: shim.url }],
      providers: [
        { namespace: 'acme', type: 'nosig', versions: [{ version: '1.0.0', platforms: TWO }] },
        { namespace: 'acme', type: 'sigdenied', versions: [{ version: '1.0.0', platforms: TWO }] },
        { namespace: 'acme', type: 'limited', versions: [{ version: '1.0.0', platforms: TWO, extraBytes: 200_000 }] },
      ],
    });
    // The upstream client reads NODE_EXTRA_CA_CERTS at start: trust the scripted upstream too.
    bundle = await writeCaBundle([h.origin.caPem, shim.caPem]);
    process.env.NODE_EXTRA_CA_CERTS = bundle.file;
    await h.restart();
  });

  after(async () => {
    await h?.stop();
    await shim?.stop();
    await bundle?.remove();
    process.env.NODE_EXTRA_CA_CERTS = previousCa;
    report('upstream-faults', { requests: tried });
  });

  const hugeIndex = `/v1/mirror/${BIG_HOST}/acme/huge/index.json`;
  const hugeKey = `tf/providers/${BIG_HOST}/acme/huge/versions`;

  async function assertOversizeRefused(path: string, key: string, concurrency: number): Promise<void> {
    const before = shim.requests.length;
    const answers = await Promise.all(Array.from({ length: concurrency }, () => get(path)));
    for (const r of answers) {
      const body = assertJsonError(r, 502, 'ERR_UPSTREAM_BAD_RESPONSE', `oversized ${path}`);
      assert.match(body.errors.join(' '), /too large/, 'the error says why');
    }
    const upstreamCalls = shim.requests.slice(before).filter((q) => q.target.endsWith('/versions')).length;
    assert.equal(upstreamCalls, 1, 'concurrent waiters share one upstream request');
    await h.settle();
    assert.equal(await h.app.store.stat(key), undefined, 'nothing stored');
    assert.deepEqual((await h.objectFiles()).filter((f) => f.startsWith(key)), [], 'no object file');
    assert.deepEqual(await h.tmpEntries(), [], 'no temp file');
    assert.ok(logged((l) => l.msg === 'metadata load failed' && l.key === key && l.code === 'ERR_UPSTREAM_BAD_RESPONSE').length > 0, 'load failure logged with its code');
    assert.ok(requestLine(path, 502), 'request logged as 502');
  }

  void it(`versions answer of ${BIG_BYTES} bytes with Content-Length over a ${LIMIT}-byte limit: 502 to every waiter, nothing stored; served once it shrinks; the stale copy survives a later oversized refresh`, async () => {
    shim.mode = 'big';
    await assertOversizeRefused(hugeIndex, hugeKey, 3);

    shim.mode = 'small';
    const good = await get(hugeIndex);
    assert.equal(good.status, 200, good.body.toString('utf8'));
    assert.deepEqual(Object.keys(jsonOf<{ versions: object }>(good).versions), ['1.0.0', '1.0.1', '1.0.2']);
    const stored = await h.app.store.stat(hugeKey);
    assert.ok(stored, 'cached once it fits');

    // ttl 0s: the next request is served stale while the (oversized) refresh fails in the background.
    shim.mode = 'big';
    const failedBefore = logged((l) => l.key === hugeKey && l.what === 'refresh').length;
    const stale = await get(hugeIndex);
    assert.equal(stale.status, 200);
    assert.ok(stale.body.equals(good.body), 'stale copy served');
    await waitFor(() => logged((l) => l.key === hugeKey && l.what === 'refresh').length > failedBefore, 'failed background refresh logged');
    const refresh = logged((l) => l.key === hugeKey && l.what === 'refresh').at(-1);
    assert.equal(refresh?.code, 'ERR_UPSTREAM_BAD_RESPONSE');
    await h.settle();
    assert.deepEqual(await h.app.store.stat(hugeKey), stored, 'the oversized refresh did not replace the copy');
    shim.mode = 'small';
  });

  void it('chunked versions answer with no Content-Length: reading stops at the limit (upstream cannot push its 32 MiB), 502, nothing stored', async () => {
    shim.mode = 'stream';
    const path = `/v1/mirror/${BIG_HOST}/acme/endless/index.json`;
    await assertOversizeRefused(path, `tf/providers/${BIG_HOST}/acme/endless/versions`, 2);
    await waitFor(() => shim.streamed.bytes > 0, 'upstream started streaming');
    assert.equal(shim.streamed.finished, false, `regcache stopped reading (upstream wrote ${shim.streamed.bytes} of ${STREAM_BYTES} bytes)`);
    shim.mode = 'small';
    const fine = await get(path);
    assert.equal(fine.status, 200, fine.body.toString('utf8'));
  });

  void it('oversized module version list: 502, nothing stored; served once it shrinks', async () => {
    shim.mode = 'big';
    const path = `/v1/modules/${BIG_HOST}/acme/huge/aws/versions`;
    const key = `tf/modules/${BIG_HOST}/acme/huge/aws/versions`;
    await assertOversizeRefused(path, key, 1);
    shim.mode = 'small';
    const fine = await get(path);
    assert.equal(fine.status, 200, fine.body.toString('utf8'));
    assert.ok(await h.app.store.stat(key));
  });

  /**
   * A signed provider whose signature file cannot be had: GitHub-style CDNs answer 404, S3-backed
   * ones answer 403 for a missing object. Either way it is a signature failure, not "no such
   * provider" and not "you need credentials"; a separate provider per status keeps the cases apart.
   */
  for (const [type, status] of [['nosig', 404], ['sigdenied', 403]] as const) {
    const zipPath = zipPathOf('acme', type, '1.0.0', 'linux', 'amd64');
    const key = providerKeyOf('acme', type);
    const routes = [`${mirrorPathOf('acme', type)}/1.0.0.json`, zipPath, `/v1/providers/registry.terraform.io/acme/${type}/1.0.0/download/linux/amd64`];

    void it(`SHA256SUMS.sig answered ${status} for a provider that publishes signing keys: 502 ERR_SIGNATURE_INVALID on every route, nothing cached, zip never fetched`, async () => {
      h.origin.setFault(`${type}_1.0.0_SHA256SUMS.sig`, { kind: 'status', status });
      const answers: Array<[string, RawResponse]> = [];
      for (const path of routes) answers.push([path, await get(path)]);
      await h.settle();
      assert.equal(await h.app.store.stat(`${key}/1.0.0/shasums`), undefined, 'no SHA256SUMS bundle cached');
      assert.equal(await h.app.store.stat(`${key}/1.0.0/linux_amd64/zip`), undefined, 'no zip cached');
      assert.equal(h.origin.count((p) => p.endsWith(`${type}_1.0.0_linux_amd64.zip`)), 0, 'the zip is never fetched without a verified checksum');
      // The download answer is checked against the signed SHA256SUMS before it is stored, so it is refused too.
      assert.equal(await h.app.store.stat(`${key}/1.0.0/download/linux_amd64`), undefined, 'no download answer cached');
      for (const [path, res] of answers) {
        assertJsonError(res, 502, 'ERR_SIGNATURE_INVALID', `${path} with the signature answered ${status}`);
        assert.ok(requestLine(path, 502), `request for ${path} logged as 502`);
      }
    });

    void it(`once the signature (${status} before) is back, the same requests succeed and are cached`, async () => {
      h.origin.clearFaults();
      const doc = jsonOf<{ archives: Record<string, unknown> }>(await get(`${mirrorPathOf('acme', type)}/1.0.0.json`));
      assert.deepEqual(Object.keys(doc.archives).sort(), ['darwin_arm64', 'linux_amd64']);
      const zip = await get(zipPath);
      assert.equal(zip.status, 200);
      assert.ok(zip.complete && zip.body.equals(h.origin.zipBytes('acme', type, '1.0.0', 'linux', 'amd64')));
      await h.settle();
      assert.ok(await h.app.store.stat(`${key}/1.0.0/shasums`));
      assert.ok(await h.app.store.stat(`${key}/1.0.0/linux_amd64/zip`));
    });
  }

  void it('zip answered 429 with Retry-After: 502 ERR_UPSTREAM_STATUS naming 429 to 4 concurrent clients, one upstream try, nothing committed; served after the limit lifts', async () => {
    const z = { os: 'linux', arch: 'amd64' };
    const file = `limited_1.0.0_${z.os}_${z.arch}.zip`;
    const path = zipPathOf('acme', 'limited', '1.0.0', z.os, z.arch);
    const key = `${providerKeyOf('acme', 'limited')}/1.0.0/${z.os}_${z.arch}/zip`;
    // Metadata first, so the only upstream request the fault meets is the zip itself.
    assert.equal((await get(`${mirrorPathOf('acme', 'limited')}/1.0.0.json`)).status, 200);
    h.origin.setFault(file, { kind: 'status', status: 429, retryAfter: 120 });
    const before = h.origin.count((p) => p.endsWith(file), 'GET');
    const answers = await Promise.all(Array.from({ length: 4 }, () => get(path)));
    for (const r of answers) {
      const body = assertJsonError(r, 502, 'ERR_UPSTREAM_STATUS', 'rate-limited zip');
      assert.match(body.errors.join(' '), /429/);
    }
    assert.equal(h.origin.count((p) => p.endsWith(file), 'GET') - before, 1, 'no retry storm: one upstream request for all waiters');
    await h.settle();
    assert.equal(await h.app.store.stat(key), undefined, 'nothing committed');
    assert.deepEqual(await h.tmpEntries(), []);
    assert.ok(logged((l) => l.msg === 'fill failed, nothing committed' && l.key === key && l.code === 'ERR_UPSTREAM_STATUS').length > 0, 'fill failure logged');
    assert.ok(requestLine(path, 502));

    h.origin.clearFaults();
    const ok = await get(path);
    assert.equal(ok.status, 200);
    assert.ok(ok.complete && ok.body.equals(h.origin.zipBytes('acme', 'limited', '1.0.0', z.os, z.arch)), 'byte-identical after the limit lifted');
    await h.settle();
    assert.ok(await h.app.store.stat(key), 'committed');
  });
});
