/**
 * `regcache purge` and `regcache gc`, through a running regcache and, for
 * gc and ls, directly on the store of a stopped one.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { OriginRegistry } from '../fakes/origin-registry.js';
import type { RegcacheProcess } from '../support/regcache-process.js';
import type { CacheListing } from '../../src/http/admin-listing.js';
import { providerVersions } from '../support/listing.js';
import { printed, runCli, startCliSetup, TOKEN } from './run-cli.js';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];

let origin: OriginRegistry;
let regcache: RegcacheProcess;
let stop: () => Promise<void>;
let agent: Agent;

const zipGets = (name: string): number => origin.count((p) => p.endsWith('.zip') && p.includes(name), 'GET');
const admin = (): string[] => ['--server', regcache.url, '--ca', regcache.caPath ?? '', '--token', TOKEN];


/** Versions of a provider the cache lists (via the CLI). */
async function cached(args: string[], provider: string): Promise<string[]> {
  const r = await runCli(['ls', '--json', ...args]);
  assert.equal(r.code, 0, printed(r));
  const listing = JSON.parse(r.stdout) as CacheListing;
  return Object.keys(providerVersions(listing, `registry.terraform.io/${provider}`)).sort();
}

async function getZip(type: string, version: string): Promise<void> {
  const url = `${regcache.url}/v1/mirror/registry.terraform.io/hashicorp/${type}/${version}/linux_amd64/terraform-provider-${type}_${version}_linux_amd64.zip`;
  const res = await request(url, { dispatcher: agent });
  await res.body.arrayBuffer();
  assert.equal(res.statusCode, 200);
}

void describe('cli: regcache purge / gc', () => {
  before(async () => {
    ({ origin, regcache, stop } = await startCliSetup(
      [
        { namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: PLATFORMS }] },
        { namespace: 'hashicorp', type: 'null', versions: [{ version: '3.2.2', platforms: PLATFORMS }] },
        { namespace: 'hashicorp', type: 'local', versions: [{ version: '2.5.1', platforms: PLATFORMS }] },
      ],
      { storage: { maxSize: '1', cleanupInterval: '1h' } },
    ));
    agent = new Agent({ connect: { ca: await readFile(regcache.caPath ?? '', 'utf8') } });
    const warm = await runCli(['warm', ...admin(), '--provider', 'hashicorp/random', '--provider', 'hashicorp/null', '--provider', 'hashicorp/local']);
    assert.equal(warm.code, 0, printed(warm));
  });
  after(async () => {
    await agent?.close();
    await stop?.();
  });

  void it('purge removes a provider version; the next request downloads it again', async () => {
    assert.equal(zipGets('random_3.6.0_linux_amd64'), 1);
    const r = await runCli(['purge', ...admin(), 'registry.terraform.io/hashicorp/random/3.6.0']);
    assert.equal(r.code, 0, printed(r));
    assert.match(r.stdout, /^purged [1-9]\d* object\(s\) \(.+\) under registry\.terraform\.io\/hashicorp\/random\/3\.6\.0\n$/);
    assert.deepEqual(await cached(admin(), 'hashicorp/random'), []);
    await getZip('random', '3.6.0');
    assert.equal(zipGets('random_3.6.0_linux_amd64'), 2, 'fetched from upstream again');
  });

  void it('purge --metadata-only keeps the package', async () => {
    const r = await runCli(['purge', ...admin(), '--metadata-only', '--json', 'registry.terraform.io/hashicorp/null']);
    assert.equal(r.code, 0, printed(r));
    const answer = JSON.parse(r.stdout) as { removed: number; keys: string[] };
    assert.ok(answer.removed > 0);
    assert.ok(answer.keys.every((k) => !k.endsWith('/zip')), answer.keys.join(', '));
    assert.deepEqual(await cached(admin(), 'hashicorp/null'), ['3.2.2']);
    await getZip('null', '3.2.2');
    assert.equal(zipGets('null_3.2.2_linux_amd64'), 1, 'no second download');
  });

  void it('purge rejects a malformed target and --modules purges under /v1/modules/', async () => {
    const bad = await runCli(['purge', ...admin(), 'a/b/c/d/e']);
    assert.equal(bad.code, 2, printed(bad));
    const modules = await runCli(['purge', ...admin(), '--modules', 'registry.terraform.io/acme']);
    assert.equal(modules.code, 0, printed(modules));
    assert.match(modules.stdout, /purged 0 object\(s\) .* under registry\.terraform\.io\/acme/);
  });

  void it('gc --dry-run on the server reports and removes nothing', async () => {
    const r = await runCli(['gc', ...admin(), '--dry-run']);
    assert.equal(r.code, 0, printed(r));
    assert.match(r.stdout, /would remove [1-9]\d* of \d+ object\(s\)/);
    assert.match(r.stdout, /tf\/providers\/registry\.terraform\.io\/hashicorp\/local\/2\.5\.1\/linux_amd64\/zip/);
    assert.deepEqual(await cached(admin(), 'hashicorp/local'), ['2.5.1']);
  });

  void it('on a stopped server\'s store: ls, gc --dry-run, gc without --force refused, gc --force removes', async () => {
    await regcache.stop();
    const store = ['--storage-path', regcache.dataDir];
    assert.deepEqual(await cached(store, 'hashicorp/local'), ['2.5.1']);

    const dry = await runCli(['gc', ...store, '--max-size', '1', '--dry-run']);
    assert.equal(dry.code, 0, printed(dry));
    assert.match(dry.stdout, /would remove [1-9]/);

    const refused = await runCli(['gc', ...store, '--max-size', '1']);
    assert.equal(refused.code, 2, printed(refused));
    assert.match(refused.stderr, /--force/);
    assert.deepEqual(await cached(store, 'hashicorp/local'), ['2.5.1'], 'nothing removed without --force');

    const real = await runCli(['gc', '--config', regcache.configFile, '--max-size', '1', '--force']);
    assert.equal(real.code, 0, printed(real));
    assert.match(real.stdout, /^removed [1-9]\d* of \d+ object\(s\)/m);
    for (const p of ['hashicorp/local', 'hashicorp/null', 'hashicorp/random']) assert.deepEqual(await cached(store, p), [], `${p} removed`);

    const mixed = await runCli(['gc', ...store, '--server', 'https://127.0.0.1:1']);
    assert.equal(mixed.code, 2, printed(mixed));
  });
});
