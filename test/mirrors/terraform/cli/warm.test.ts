/**
 * `regcache warm` and `regcache ls` against a real regcache child process in
 * front of the fake origin: each input form downloads exactly the requested
 * packages once, failures exit non-zero with the job's errors, and the
 * admin token is never printed.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runTool, type ToolIo } from '../../../../src/cli/kit/tool-io.js';
import { runWarm } from '../../../../src/mirrors/terraform/cli/warm.js';
import type { OriginRegistry } from '../../../fakes/origin-registry.js';
import type { RegcacheProcess } from '../../../support/regcache-process.js';
import { printed, runCli, startCliSetup, TOKEN } from '../../../cli/run-cli.js';

const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];

let origin: OriginRegistry;
let regcache: RegcacheProcess;
let stop: () => Promise<void>;
let dir: string;

const zipGets = (name: string): number => origin.count((p) => p.endsWith('.zip') && p.includes(name), 'GET');
const server = (): string[] => ['--server', regcache.url, '--ca', regcache.caPath ?? ''];
const ENV = { REGCACHE_ADMIN_TOKEN: TOKEN };

void describe('cli: regcache warm / ls', () => {
  before(async () => {
    ({ origin, regcache, stop } = await startCliSetup([
      { namespace: 'hashicorp', type: 'random', versions: [{ version: '3.6.0', platforms: PLATFORMS }, { version: '3.5.0', platforms: PLATFORMS }] },
      { namespace: 'hashicorp', type: 'null', versions: [{ version: '3.2.2', platforms: PLATFORMS }] },
      { namespace: 'acme', type: 'widget', versions: [{ version: '1.0.0', platforms: PLATFORMS }] },
      { namespace: 'acme', type: 'gadget', versions: [{ version: '2.0.0', platforms: PLATFORMS }] },
    ]));
    dir = await mkdtemp(join(tmpdir(), 'regcache-cli-warm-'));
  });
  after(async () => {
    await stop?.();
    await rm(dir, { recursive: true, force: true });
  });

  void it('warms the exact versions of a lock file for each --platform', async () => {
    const lock = join(dir, '.terraform.lock.hcl');
    await writeFile(lock, 'provider "registry.terraform.io/hashicorp/null" {\n  version = "3.2.2"\n  hashes = [\n    "zh:00",\n  ]\n}\n');
    const r = await runCli(['warm', ...server(), '--platform', 'linux_amd64', '--platform', 'darwin_arm64', lock], ENV);
    assert.equal(r.code, 0, printed(r));
    assert.match(r.stdout, /warming: 2\/2\n/);
    assert.equal(zipGets('null_3.2.2_linux_amd64'), 1);
    assert.equal(zipGets('null_3.2.2_darwin_arm64'), 1);
    assert.equal(zipGets('null_3.2.2_windows_amd64'), 0);
  });

  void it('warms the required_providers of a directory of .tf files', async () => {
    const conf = join(dir, 'conf');
    await mkdir(conf);
    await writeFile(
      join(conf, 'main.tf'),
      [
        '# terraform { required_providers { evil = { source = "acme/evil" } } }',
        'terraform {',
        '  required_version = ">= 1.5" // not a provider',
        '  required_providers {',
        '    /* the one we use */ random = {',
        '      source  = "hashicorp/random"',
        '      version = "~> 3.5"',
        '    }',
        '  }',
        '}',
        'resource "random_id" "x" {',
        '  keepers = { text = <<EOT',
        'terraform { required_providers { evil = { source = "acme/evil" } } }',
        'EOT',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    await writeFile(join(conf, 'versions.tf'), 'terraform {\n  required_providers {\n    widget = { source = "registry.terraform.io/acme/widget" }\n  }\n}\n');
    const r = await runCli(['warm', ...server(), '--platform', 'linux_amd64', conf], ENV);
    assert.equal(r.code, 0, printed(r));
    assert.match(r.stdout, /2 provider\(s\) from/);
    assert.equal(zipGets('random_3.6.0_linux_amd64'), 1);
    assert.equal(zipGets('random_3.5.0'), 0, 'only the newest matching version');
    assert.equal(zipGets('random_3.6.0_darwin_arm64'), 0);
    assert.equal(zipGets('widget_1.0.0_linux_amd64'), 1);
    assert.equal(origin.count('evil'), 0, 'commented and heredoc text ignored');
  });

  void it('warms --provider flags and the cache listing shows every package', async () => {
    const r = await runCli(['warm', ...server(), '--provider', 'registry.terraform.io/hashicorp/random@3.5.0', '--provider', 'acme/gadget', '--platform', 'windows_amd64'], ENV);
    assert.equal(r.code, 0, printed(r));
    assert.equal(zipGets('random_3.5.0_windows_amd64'), 1);
    assert.equal(zipGets('gadget_2.0.0_windows_amd64'), 1);
    assert.equal(zipGets('random_3.5.0_linux_amd64'), 0);

    const again = await runCli(['warm', ...server(), '--provider', 'acme/gadget@2.0.0', '--platform', 'windows_amd64'], ENV);
    assert.equal(again.code, 0, printed(again));
    assert.equal(zipGets('gadget_2.0.0_windows_amd64'), 1, 'already cached: no second download');

    const ls = await runCli(['ls', ...server(), '--token', TOKEN]);
    assert.equal(ls.code, 0, printed(ls));
    const rows = ls.stdout.split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(rows[0], ['INSTANCE', 'KIND', 'NAME', 'VERSION', 'VARIANTS', 'SIZE', 'LAST ACCESS']);
    const has = (p: string, v: string, plat: string): boolean =>
      rows.some((row) => row[0] === 'terraform' && row[1] === 'provider' && row[2] === `registry.terraform.io/${p}` && row[3] === v && (row[4] ?? '').split(',').includes(plat));
    for (const [p, v, plat] of [
      ['hashicorp/null', '3.2.2', 'linux_amd64'],
      ['hashicorp/null', '3.2.2', 'darwin_arm64'],
      ['hashicorp/random', '3.6.0', 'linux_amd64'],
      ['hashicorp/random', '3.5.0', 'windows_amd64'],
      ['acme/widget', '1.0.0', 'linux_amd64'],
      ['acme/gadget', '2.0.0', 'windows_amd64'],
    ] as const) {
      assert.ok(has(p, v, plat), `${p} ${v} ${plat} listed:\n${ls.stdout}`);
    }
    assert.equal(rows.filter((row) => row[2]?.startsWith('registry.terraform.io/')).length, 5, 'one row per provider version');
  });

  void it('a wrong token fails with a clear message and is never printed', async () => {
    const wrong = 'wrong-token-0123456789';
    for (const args of [['warm', '--provider', 'acme/gadget'], ['ls'], ['purge', 'registry.terraform.io/acme'], ['gc', '--dry-run']]) {
      const r = await runCli([...args, ...server(), '--token', wrong]);
      assert.equal(r.code, 1, printed(r));
      assert.match(r.stderr, /refused the admin token/);
      assert.ok(!(r.stdout + r.stderr).includes(wrong), 'token not printed');
    }
    const none = await runCli(['ls', ...server()]);
    assert.equal(none.code, 2, printed(none));
    assert.match(none.stderr, /--token TOKEN or REGCACHE_ADMIN_TOKEN/);
    assert.ok(!regcache.output().includes(wrong) && !regcache.output().includes(TOKEN), 'tokens not logged by the server');
  });

  void it('an unknown provider fails the job: exit 1 with its error', async () => {
    const r = await runCli(['warm', ...server(), '--provider', 'hashicorp/nope', '--provider', 'acme/widget@1.0.0'], ENV);
    assert.equal(r.code, 1, printed(r));
    assert.match(r.stderr, /error: .*hashicorp\/nope/);
    assert.match(r.stderr, /warm failed: 1 of 2 package\(s\) cached, 1 failed/);
  });

  void it('on a terminal, progress is one line rewritten with \\r', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: ToolIo = { stdout: { isTTY: true, write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
    const args = { command: 'warm', flags: {}, rest: [] };
    const opts = { server: regcache.url, ca: regcache.caPath ?? '', token: TOKEN, providers: ['acme/widget@1.0.0'], platforms: ['darwin_arm64'] };
    const code = await runTool({ args, opts, env: {}, io }, runWarm);
    assert.equal(code, 0, err.join(''));
    const text = out.join('');
    assert.match(text, /\rwarming \[#{30}\] 1\/1/);
    assert.ok(!text.includes('warming: '), 'no plain progress lines on a terminal');
    assert.ok(text.endsWith('warmed 1 package(s)\n'));
  });
});
