/**
 * Issue 17, point 1: private content must not leak across the worker
 * processes of one host (`server.workers: 2`) nor across two replicas
 * sharing one store. Tokenless clients hammer every path of a private
 * provider on every process while a client with the token caches it
 * through one of them; not one tokenless answer may be a 200. Before the
 * fix, "not private" was remembered for a second per process and prepared
 * answers replayed, so the other process served the freshly cached
 * metadata and zips to anyone. The client with the token must never be
 * refused either (point 6: it used to get the 401 of a tokenless load it
 * had joined).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startOriginRegistry, type OriginRegistry } from '../fakes/origin-registry.js';
import { report } from '../reliability/support.js';
import { startRegcache, type RegcacheProcess } from '../support/regcache-process.js';
import { addPrivateProviders, cacheWithToken, RACE_HOST, startHammer, tokenlessPaths } from './tokenless-hammer.js';

const TOKEN = 'race-client-token-5e1f0a';
const PROVIDERS = 3;
/** Tokenless loops per listening URL. */
const LOOPS = 8;

/**
 * For each private provider: hammer tokenless on every base, wait until each
 * base answered some tokenless requests for it (every process has looked at
 * the scope while it was not cached), cache it with the token through one
 * process, keep hammering for a few hundred more answers per base.
 */
async function race(bases: readonly string[], types: readonly string[]): Promise<{ requests: number; leaks: Map<string, number>; refusals: number }> {
  const leaks = new Map<string, number>();
  let requests = 0;
  let refusals = 0;
  for (const [i, type] of types.entries()) {
    const hammer = startHammer(bases, tokenlessPaths(type), LOOPS);
    try {
      await hammer.answered(40);
      refusals += (await cacheWithToken(bases[i % bases.length] ?? '', type, TOKEN)).refusals;
      await hammer.answered(400);
    } finally {
      await hammer.stop();
    }
    requests += hammer.tally.requests;
    for (const [path, n] of hammer.tally.leaks) leaks.set(path, (leaks.get(path) ?? 0) + n);
  }
  return { requests, leaks, refusals };
}

const describeLeaks = (leaks: Map<string, number>): string => JSON.stringify(Object.fromEntries(leaks));
const total = (leaks: Map<string, number>): number => [...leaks.values()].reduce((a, b) => a + b, 0);

void describe('e2e: private content across processes (issue 17, point 1)', () => {
  let origin: OriginRegistry;
  let types: string[];
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async () => {
    origin = await startOriginRegistry();
    types = await addPrivateProviders(origin, PROVIDERS, TOKEN);
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await origin?.stop();
  });

  void it('server.workers: 2 — no tokenless 200 while the other worker caches a private provider', async () => {
    const rc: RegcacheProcess = await startRegcache(
      { server: { workers: 2, tls: false }, terraform: { upstreams: [{ host: RACE_HOST, url: origin.url }] } },
      { NODE_EXTRA_CA_CERTS: origin.caFile },
    );
    cleanups.push(() => rc.stop());
    const { requests, leaks, refusals } = await race([rc.url], types);
    const workers = new Set(rc.logs.filter((l) => l.msg === 'request' && String(l.path).includes('/acme/secret') && l.status !== 200).map((l) => l.worker));
    assert.deepEqual([...workers].sort(), [1, 2], 'tokenless requests reached both workers');
    report('private-race-workers', { requests, tokenless200: total(leaks), tokenRefusals: refusals, byPath: Object.fromEntries(leaks) });
    assert.equal(total(leaks), 0, `tokenless 200s: ${describeLeaks(leaks)}`);
    assert.equal(refusals, 0, 'the client with the token was never refused');
  });

  void it('two replicas on one cache directory — no tokenless 200 while the other replica caches a private provider', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'regcache-race-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // The same providers as above: the workers of the first test cached them in another directory.
    const config = { server: { tls: false }, storage: { path: join(dir, 'data') }, terraform: { upstreams: [{ host: RACE_HOST, url: origin.url }] } };
    const [a, b] = await Promise.all([startRegcache(config, { NODE_EXTRA_CA_CERTS: origin.caFile }), startRegcache(config, { NODE_EXTRA_CA_CERTS: origin.caFile })]);
    cleanups.push(() => Promise.all([a.stop(), b.stop()]));
    const { requests, leaks, refusals } = await race([a.url, b.url], types);
    report('private-race-replicas', { requests, tokenless200: total(leaks), tokenRefusals: refusals, byPath: Object.fromEntries(leaks) });
    assert.equal(total(leaks), 0, `tokenless 200s: ${describeLeaks(leaks)}`);
    assert.equal(refusals, 0, 'the client with the token was never refused');
  });
});
