/**
 * One-off measurement: warm provider-zip hits through two builds of
 * regcache side by side, for a before/after of a change on the per-request
 * path. One fake origin (test/fakes) publishes a 1 MB provider; each build
 * (this tree's dist/, and OTHER's, a built checkout of another commit)
 * serves it over plain HTTP from its own fresh store; `wrk` loads the same
 * zip URL for 5 s at 1 and 16 connections, the two builds alternating
 * (order swapped every round). Prints req/s per run and the medians.
 * Run: npm run build && node dist/bench/ab-zip-hits.js /path/to/other/checkout [rounds]
 * (the other checkout needs `npm ci && npm run build`). Not a test: it
 * asserts nothing on time.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startOriginRegistry } from '../test/fakes/origin-registry.js';
import type { RegcacheProcess } from '../test/support/regcache-process.js';

type StartRegcache = (config: Record<string, unknown>, env?: NodeJS.ProcessEnv) => Promise<RegcacheProcess>;
const ZIP = '/v1/mirror/registry.terraform.io/hashicorp/big/1.0.0/linux_amd64/terraform-provider-big_1.0.0_linux_amd64.zip';

async function main(): Promise<void> {
  const [other, roundsArg] = process.argv.slice(2);
  if (other === undefined) throw new Error('usage: ab-zip-hits OTHER_CHECKOUT [rounds]');
  const rounds = Number(roundsArg ?? 6);
  const origin = await startOriginRegistry();
  await origin.addProvider({ namespace: 'hashicorp', type: 'big', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }], extraBytes: 1_000_000 }] });
  const builds: Array<[string, string]> = [
    ['this', fileURLToPath(new URL('../test/support/regcache-process.js', import.meta.url))],
    ['other', `${other.replace(/\/+$/, '')}/dist/test/support/regcache-process.js`],
  ];
  const sides = new Map<string, RegcacheProcess>();
  try {
    for (const [name, module] of builds) {
      const { startRegcache } = (await import(module)) as { startRegcache: StartRegcache };
      const config = { server: { tls: false }, terraform: { metadata: { ttl: '1h' }, upstreams: [{ host: 'registry.terraform.io', url: origin.url }] } };
      const rc = await startRegcache(config, { NODE_EXTRA_CA_CERTS: origin.caFile });
      sides.set(name, rc);
      await fetch(`${rc.url}/v1/mirror/registry.terraform.io/hashicorp/big/1.0.0.json`).then((r) => r.arrayBuffer());
      const warm = await fetch(`${rc.url}${ZIP}`);
      process.stdout.write(`${name}: ${rc.url} warm GET ${warm.status}, ${(await warm.arrayBuffer()).byteLength} bytes\n`);
    }
    const results = new Map<string, number[]>();
    for (let i = 0; i < rounds; i++) {
      for (const c of [1, 16]) {
        for (const name of i % 2 === 0 ? ['this', 'other'] : ['other', 'this']) {
          const url = `${sides.get(name)?.url ?? ''}${ZIP}`;
          const out = spawnSync('wrk', ['-t', String(Math.min(2, c)), '-c', String(c), '-d', '5s', url], { encoding: 'utf8' });
          const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1] ?? Number.NaN);
          const key = `${name} c${c}`;
          results.set(key, [...(results.get(key) ?? []), Math.round(rps)]);
        }
      }
    }
    for (const [key, runs] of results) {
      const sorted = [...runs].sort((a, b) => a - b);
      process.stdout.write(`${key}: req/s ${runs.join(' ')}; median ${sorted[Math.floor(sorted.length / 2)]}\n`);
    }
  } finally {
    for (const rc of sides.values()) await rc.stop();
    await origin.stop();
  }
}

await main();
