import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url);

/** Environment assignments and node flags before the script, from `npm start` and from the bin's shebang. */
interface StartCommand {
  env: string[];
  flags: string[];
}

async function startCommands(): Promise<{ start: StartCommand; shebang: StartCommand }> {
  const pkg = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as { scripts: { start: string }; bin: { regcache: string } };
  const start = /^((?:[A-Z_]+=\S+ )*)node (.*?) ?dist\/src\/cli\/main\.js serve$/.exec(pkg.scripts.start);
  assert.ok(start, `start script has the expected shape: ${pkg.scripts.start}`);
  const bin = await readFile(new URL(pkg.bin.regcache, ROOT), 'utf8');
  const shebang = /^#!\/usr\/bin\/env -S ((?:[A-Z_]+=\S+ )*)node ?(.*)\n/.exec(bin);
  assert.ok(shebang, `bin starts with an env -S shebang running node: ${bin.split('\n')[0]}`);
  const split = (s: string | undefined): string[] => (s ?? '').split(' ').filter((a) => a !== '');
  return { start: { env: split(start[1]), flags: split(start[2]) }, shebang: { env: split(shebang[1]), flags: split(shebang[2]) } };
}

const asEnv = (assignments: string[]): Record<string, string> => Object.fromEntries(assignments.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));

/**
 * RSS (MB) a node started with `env` gives back after freeing 40 MB of
 * 256 KiB buffers (the buffer pool's chunk size), with small long-lived
 * allocations made in between, as a server makes them.
 */
function rssReturnedMb(env: Record<string, string>): number {
  const code = `
    const rss = () => process.memoryUsage().rss / 1048576;
    const small = [];
    const churn = () => { let keep = []; for (let i = 0; i < 160; i++) { const b = Buffer.allocUnsafeSlow(256 * 1024); b.fill(i); keep.push(b); small.push(Buffer.allocUnsafeSlow(2000)); } return keep; };
    for (let i = 0; i < 3; i++) { churn(); gc(); gc(); }
    let keep = churn();
    const full = rss();
    keep = null; gc(); gc();
    process.stdout.write(String(full - rss()));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

/** The new-space size of a node started with `flags` after churning through short-lived objects. */
function newSpaceMb(flags: string[]): number {
  const code = `
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
    const s = require('v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    process.stdout.write(String(s.space_size / 1048576));`;
  const r = spawnSync(process.execPath, [...flags, '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

void describe('server start flags', () => {
  void it('npm start and the regcache bin start node with the same environment and flags', async () => {
    const { start, shebang } = await startCommands();
    assert.deepEqual(shebang, start);
    assert.ok(start.flags.includes('--max-semi-space-size=4'), `young generation bounded: ${start.flags.join(' ')}`);
    assert.deepEqual(asEnv(start.env), { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' });
  });

  void it('with those flags the young generation stays at 8 MB (two 4 MB semi-spaces)', async () => {
    const { start } = await startCommands();
    const mb = newSpaceMb(start.flags);
    assert.ok(mb <= 8, `new space ${mb} MB`);
  });

  void it('with that environment, freed 256 KiB buffers go back to the system (glibc keeps them otherwise)', async () => {
    const { start } = await startCommands();
    const withEnv = rssReturnedMb(asEnv(start.env));
    assert.ok(withEnv >= 30, `RSS given back after freeing 40 MB: ${withEnv.toFixed(1)} MB`);
    const without = rssReturnedMb({});
    assert.ok(without < 10, `without it glibc keeps the memory (given back: ${without.toFixed(1)} MB); if this changes, the setting may no longer be needed`);
  });
});
