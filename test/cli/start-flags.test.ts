import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url);

/** Node flags between `node` and the script, from `npm start` and from the bin's shebang. */
async function startFlags(): Promise<{ start: string[]; shebang: string[] }> {
  const pkg = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as { scripts: { start: string }; bin: { regcache: string } };
  const start = /^node (.*?) ?dist\/src\/cli\/main\.js serve$/.exec(pkg.scripts.start);
  assert.ok(start, `start script has the expected shape: ${pkg.scripts.start}`);
  const bin = await readFile(new URL(pkg.bin.regcache, ROOT), 'utf8');
  const shebang = /^#!\/usr\/bin\/env -S node ?(.*)\n/.exec(bin);
  assert.ok(shebang, `bin starts with an env -S node shebang: ${bin.split('\n')[0]}`);
  const split = (s: string | undefined): string[] => (s ?? '').split(' ').filter((a) => a !== '');
  return { start: split(start[1]), shebang: split(shebang[1]) };
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
  void it('npm start and the regcache bin start node with the same flags', async () => {
    const { start, shebang } = await startFlags();
    assert.deepEqual(shebang, start);
    assert.ok(start.includes('--max-semi-space-size=4'), `young generation bounded: ${start.join(' ')}`);
  });

  void it('with those flags the young generation stays at 8 MB (two 4 MB semi-spaces)', async () => {
    const { start } = await startFlags();
    const mb = newSpaceMb(start);
    assert.ok(mb <= 8, `new space ${mb} MB`);
  });
});
