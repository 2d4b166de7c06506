/**
 * Upstream failures on registry metadata (versions, download answers,
 * discovery): a cold cache answers a JSON error and stores nothing; a
 * cached copy is served stale (ttl 0s) while the failing refresh leaves it
 * untouched; once the fault is cleared a refresh replaces it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type Fault, type OriginRegistry } from '../fakes/origin-registry.js';
import { assertJsonError, jsonOf, type RawResponse } from './http-client.js';
import { mirrorPathOf, providerKeyOf, startHarness, waitFor, zipPathOf, type Harness } from './harness.js';

const LINUX = [{ os: 'linux', arch: 'amd64' }];
const TYPES = ['s5xx', 's429', 'refused', 'hang', 'stall', 'cut', 'badjson', 'loop'];
const TWO = [{ os: 'linux', arch: 'amd64' }, { os: 'darwin', arch: 'arm64' }];

/** One fault scenario, driven through cold → cleared → stale → refreshed. */
interface Cycle {
  type: string;
  /** Mirror path the client asks for. */
  clientPath: string;
  /** The store key the fault keeps from being written. */
  storeKey: string;
  /** Origin path the fault applies to (substring). */
  faultPath: string;
  fault: Fault | 'down';
  status: number;
  code: string | RegExp;
  message?: RegExp;
  /** Concurrent cold requests (all must get the error). */
  concurrency?: number;
  /** Further requests that must fail the same way while cold. */
  alsoCold?: string[];
}

void describe('integration: upstream faults on metadata', () => {
  let h: Harness;

  const ok = (res: RawResponse, what: string): RawResponse => {
    assert.equal(res.status, 200, `${what}: ${res.body.toString('utf8').slice(0, 300)}`);
    assert.ok(res.complete);
    return res;
  };
  const inject = async (c: Cycle): Promise<void> => {
    if (c.fault === 'down') await h.origin.down();
    else h.origin.setFault(c.faultPath, c.fault);
  };
  const clear = async (c: Cycle): Promise<void> => {
    if (c.fault === 'down') await h.origin.up();
    else h.origin.clearFaults();
  };
  const refreshFailures = (key: string): number =>
    h.logs.filter((l) => l.msg === 'background cache operation failed' && l.key === key && l.what === 'refresh').length;

  async function runCycle(c: Cycle): Promise<void> {
    // 1. cold: every waiter gets the JSON error, nothing is stored.
    await inject(c);
    const upstreamBefore = h.origin.count(c.faultPath);
    const cold = await Promise.all(Array.from({ length: c.concurrency ?? 1 }, () => h.get(c.clientPath)));
    for (const r of cold) {
      const body = assertJsonError(r, c.status, c.code, `cold ${c.clientPath}`);
      if (c.message) assert.match(body.errors.join(' '), c.message);
    }
    if (c.fault !== 'down' && (c.concurrency ?? 1) > 1) {
      assert.equal(h.origin.count(c.faultPath) - upstreamBefore, 1, 'concurrent cold waiters share one upstream request');
    }
    for (const p of c.alsoCold ?? []) assertJsonError(await h.get(p), c.status, c.code, `cold ${p}`);
    await h.settle();
    assert.equal(await h.app.store.stat(c.storeKey), undefined, 'nothing stored while failing');
    const prefix = providerKeyOf('acme', c.type);
    const allowed = c.storeKey.endsWith('/versions') ? [] : [`${prefix}/versions~obj`];
    const files = (await h.objectFiles()).filter((f) => f.startsWith(`${prefix}/`));
    assert.deepEqual(files.filter((f) => !allowed.includes(f)), [], 'no object of this provider beyond its versions list');

    // 2. cleared: the same request succeeds and is cached.
    await clear(c);
    const good = ok(await h.get(c.clientPath), `cleared ${c.clientPath}`);
    const stored = await h.app.store.stat(c.storeKey);
    assert.ok(stored, 'cached after success');

    // 3. fault again, copy expired (ttl 0s): stale copy served, failing refresh changes nothing.
    await inject(c);
    const failuresBefore = refreshFailures(c.storeKey);
    const stale = ok(await h.get(c.clientPath), `stale ${c.clientPath}`);
    assert.ok(stale.body.equals(good.body), 'stale body is the cached one');
    await waitFor(() => refreshFailures(c.storeKey) > failuresBefore, `failed background refresh of ${c.storeKey}`);
    const failedRefresh = h.logs.filter((l) => l.key === c.storeKey && l.what === 'refresh').at(-1);
    if (typeof c.code === 'string') assert.equal(failedRefresh?.code, c.code);
    else assert.match(String(failedRefresh?.code), c.code);
    await h.settle();
    assert.deepEqual(await h.app.store.stat(c.storeKey), stored, 'failed refresh left the copy untouched');
    assert.ok(ok(await h.get(c.clientPath), 'stale again').body.equals(good.body));

    // 4. cleared: a refresh replaces the copy (retried at most once a second after the failure, so keep asking).
    await clear(c);
    await waitFor(async () => {
      ok(await h.get(c.clientPath), `after clear ${c.clientPath}`);
      return ((await h.app.store.stat(c.storeKey))?.storedAt ?? 0) > stored.storedAt;
    }, 'refreshed copy stored');
    await h.settle();
  }

  before(async () => {
    h = await startHarness({
      metadata: { ttl: '0s', staleIfError: '1h' },
      // Faults are switched on and off within a second here: a remembered 404 (terraform.private.negativeTtl,
      // covered by test/reliability/private-access.test.ts) would answer again after its fault was cleared.
      extra: { terraform: { private: { negativeTtl: '0s' } } },
      providers: [
        ...TYPES.map((type) => ({ namespace: 'acme', type, versions: [{ version: '1.0.0', platforms: LINUX }] })),
        { namespace: 'acme', type: 'gone', versions: [{ version: '1.0.0', platforms: TWO }] },
      ],
    });
    // Discovery cached first so every cycle exercises the provider's own endpoint.
    assert.equal((await h.get(`${mirrorPathOf('acme', 's5xx')}/index.json`)).status, 200);
    await h.app.cache.invalidate(`${providerKeyOf('acme', 's5xx')}/versions`);
  });

  after(async () => {
    await h?.stop();
  });

  const versionsCycle = (type: string, fault: Fault | 'down', status: number, code: string | RegExp, extra: Partial<Cycle> = {}): Cycle => ({
    type,
    clientPath: `${mirrorPathOf('acme', type)}/index.json`,
    storeKey: `${providerKeyOf('acme', type)}/versions`,
    faultPath: `/v1/providers/acme/${type}/versions`,
    fault,
    status,
    code,
    ...extra,
  });

  void it('upstream 5xx: cold 502 ERR_UPSTREAM_STATUS, stale copy served while failing', async () => {
    await runCycle(versionsCycle('s5xx', { kind: 'status', status: 503 }, 502, 'ERR_UPSTREAM_STATUS', { message: /503/ }));
  });

  void it('upstream 429 with Retry-After: cold 502 ERR_UPSTREAM_STATUS, stale copy served', async () => {
    await runCycle(versionsCycle('s429', { kind: 'status', status: 429, retryAfter: 30 }, 502, 'ERR_UPSTREAM_STATUS', { message: /429/ }));
  });

  void it('connection refused: cold 502 ERR_UPSTREAM_UNREACHABLE, stale copy served', async () => {
    await runCycle(versionsCycle('refused', 'down', 502, 'ERR_UPSTREAM_UNREACHABLE'));
  });

  void it('upstream hangs before headers: 504 ERR_UPSTREAM_TIMEOUT to every concurrent waiter, stale copy served', async () => {
    await runCycle(versionsCycle('hang', { kind: 'hang' }, 504, 'ERR_UPSTREAM_TIMEOUT', { concurrency: 5 }));
  });

  void it('versions body stalls mid-way: 504 ERR_UPSTREAM_TIMEOUT, stale copy served', async () => {
    await runCycle(versionsCycle('stall', { kind: 'hangBody', afterBytes: 10 }, 504, 'ERR_UPSTREAM_TIMEOUT', { concurrency: 3 }));
  });

  void it('versions body truncated: 502, stale copy served', async () => {
    await runCycle(versionsCycle('cut', { kind: 'truncate', afterBytes: 10 }, 502, /^ERR_UPSTREAM_(BAD_RESPONSE|UNREACHABLE)$/));
  });

  void it('malformed JSON download answer: {version}.json and the zip answer 502 ERR_UPSTREAM_BAD_RESPONSE', async () => {
    const key = providerKeyOf('acme', 'badjson');
    await runCycle({
      type: 'badjson',
      clientPath: `${mirrorPathOf('acme', 'badjson')}/1.0.0.json`,
      storeKey: `${key}/1.0.0/download/linux_amd64`,
      faultPath: '/v1/providers/acme/badjson/1.0.0/download/',
      fault: { kind: 'malformedJson' },
      status: 502,
      code: 'ERR_UPSTREAM_BAD_RESPONSE',
      alsoCold: [zipPathOf('acme', 'badjson', '1.0.0', 'linux', 'amd64')],
    });
    const zip = await h.get(zipPathOf('acme', 'badjson', '1.0.0', 'linux', 'amd64'));
    assert.equal(zip.status, 200, zip.body.toString('utf8').slice(0, 300));
    assert.ok(zip.body.equals(h.origin.zipBytes('acme', 'badjson', '1.0.0', 'linux', 'amd64')));
    await h.settle();
    assert.ok(await h.app.store.stat(`${key}/1.0.0/linux_amd64/zip`), 'zip cached once the answer is valid');
  });

  void it('a platform whose download answer is 404 upstream is left out of {version}.json; the others are listed', async () => {
    const path = `${mirrorPathOf('acme', 'gone')}/1.0.0.json`;
    h.origin.setFault('/v1/providers/acme/gone/1.0.0/download/darwin/arm64', { kind: 'status', status: 404 });
    const res = await h.get(path);
    assert.equal(res.status, 200, res.body.toString('utf8'));
    assert.deepEqual(Object.keys(jsonOf<{ archives: object }>(res).archives), ['linux_amd64']);
    await h.settle();
    assert.equal(await h.app.store.stat(`${providerKeyOf('acme', 'gone')}/1.0.0/download/darwin_arm64`), undefined, 'a 404 is not cached');
    h.origin.clearFaults();
    const all = jsonOf<{ archives: object }>(await h.get(path));
    assert.deepEqual(Object.keys(all.archives).sort(), ['darwin_arm64', 'linux_amd64']);
  });

  void it('redirect loop upstream: 502 after a bounded number of hops, stale copy served', async () => {
    const path = '/v1/providers/acme/loop/versions';
    const before = h.origin.count(path);
    await runCycle(versionsCycle('loop', { kind: 'redirect', location: path }, 502, 'ERR_UPSTREAM_BAD_RESPONSE', { message: /redirect/i }));
    assert.ok(h.origin.count(path) - before < 40, 'redirects are bounded');
  });

  void it('an upstream whose TLS certificate is not trusted: 502 ERR_UPSTREAM_UNREACHABLE naming TLS, nothing sent or stored', async () => {
    // A second origin with its own CA, which regcache was never told to trust.
    const untrusted: OriginRegistry = await startOriginRegistry();
    let tls: Harness | undefined;
    const previousCa = process.env.NODE_EXTRA_CA_CERTS;
    const bundle = join(await mkdtemp(join(tmpdir(), 'regcache-it-ca-')), 'bundle.pem');
    try {
      await untrusted.addProvider({ namespace: 'acme', type: 'widget', versions: [{ version: '1.0.0', platforms: LINUX }] });
      tls = await startHarness({ extraUpstreams: [{ host: 'untrusted.example', url: untrusted.url }] });
      const res = await tls.get(`${mirrorPathOf('acme', 'widget', 'untrusted.example')}/index.json`);
      const body = assertJsonError(res, 502, 'ERR_UPSTREAM_UNREACHABLE', 'untrusted upstream');
      assert.match(body.errors.join(' '), /TLS/);
      assert.deepEqual(untrusted.requests, [], 'no HTTP request reached the untrusted origin');
      await tls.settle();
      assert.deepEqual((await tls.objectFiles()).filter((f) => f.includes('untrusted.example')), []);
      // The trusted upstream of the same instance still works.
      const fine = await tls.get(`${mirrorPathOf('acme', 'widget')}/index.json`);
      assert.equal(fine.status, 404, 'trusted origin answers (this provider is not published there)');
      assert.equal(jsonOf<{ code: string }>(fine).code, 'ERR_UPSTREAM_NOT_FOUND');

      // Once its CA is trusted (read at start), the same request succeeds.
      await writeFile(bundle, `${tls.origin.caPem}\n${untrusted.caPem}`);
      process.env.NODE_EXTRA_CA_CERTS = bundle;
      await tls.restart();
      const now = await tls.get(`${mirrorPathOf('acme', 'widget', 'untrusted.example')}/index.json`);
      assert.equal(now.status, 200, now.body.toString('utf8'));
      assert.deepEqual(jsonOf(now), { versions: { '1.0.0': {} } });
    } finally {
      await tls?.stop();
      await untrusted.stop();
      await rm(dirname(bundle), { recursive: true, force: true });
      process.env.NODE_EXTRA_CA_CERTS = previousCa;
    }
  });
});
