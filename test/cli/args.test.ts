import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCliArgs } from '../../src/cli/args.js';
import { runValidate, type ValidateOutput } from '../../src/cli/validate.js';

void describe('parseCliArgs', () => {
  void it('defaults to serve with no flags', () => {
    assert.deepEqual(parseCliArgs([]), { command: 'serve', flags: {}, rest: [] });
  });

  void it('reads the command, positionals and every flag', () => {
    const parsed = parseCliArgs([
      'validate',
      '--config',
      'regcache.yaml',
      '--listen=0.0.0.0:8080',
      '--storage-path',
      '/srv/cache',
      '--log-level',
      'debug',
      '--public-url',
      'https://cache.example.com',
      'extra',
    ]);
    assert.deepEqual(parsed, {
      command: 'validate',
      configFile: 'regcache.yaml',
      flags: {
        listen: '0.0.0.0:8080',
        storagePath: '/srv/cache',
        logLevel: 'debug',
        publicUrl: 'https://cache.example.com',
      },
      rest: ['extra'],
    });
  });

  void it('collects repeated --set in order, splitting at the first "="', () => {
    const parsed = parseCliArgs(['serve', '--set', 'log.level=debug', '--set=terraform.upstreams=[{"host":"a=b"}]']);
    assert.deepEqual(parsed.flags.set, [
      { path: 'log.level', value: 'debug' },
      { path: 'terraform.upstreams', value: '[{"host":"a=b"}]' },
    ]);
  });

  void it('rejects malformed --set entries', () => {
    for (const bad of ['log.level', '=x', 'log..level=x', '.log=x', 'a b=c']) {
      assert.throws(() => parseCliArgs(['--set', bad]), /--set expects KEY=VALUE/);
    }
  });

  void it('rejects unknown flags, naming them', () => {
    assert.throws(() => parseCliArgs(['serve', '--port', '80']), { message: /unknown option --port/ });
    assert.throws(() => parseCliArgs(['-x']), { message: /unknown option -x/ });
  });

  void it('rejects flags without values', () => {
    assert.throws(() => parseCliArgs(['--config']), { message: '--config needs a value' });
    assert.throws(() => parseCliArgs(['--config', '--listen', 'a:1']), { message: '--config needs a value' });
    assert.throws(() => parseCliArgs(['--listen=']), { message: '--listen needs a non-empty value' });
    assert.throws(() => parseCliArgs(['--help=yes']), { message: '--help does not take a value' });
  });

  void it('turns --help and -h into the help command', () => {
    assert.deepEqual(parseCliArgs(['--help']), { command: 'help', flags: {}, rest: [] });
    assert.deepEqual(parseCliArgs(['validate', '-h']), { command: 'help', flags: {}, rest: ['validate'] });
    assert.equal(parseCliArgs(['help']).command, 'help');
  });

  void it('treats everything after -- as positional', () => {
    assert.deepEqual(parseCliArgs(['serve', '--', '--listen']).rest, ['--listen']);
  });
});

void describe('runValidate', () => {
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'regcache-validate-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function capture(): ValidateOutput & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => err.push(text) } };
  }

  void it('prints ok and returns 0 for a valid file', async () => {
    const file = path.join(dir, 'good.yaml');
    await writeFile(file, 'log:\n  level: warn\n');
    const io = capture();
    assert.equal(await runValidate(file, {}, {}, io), 0);
    assert.deepEqual(io.out, [`ok: ${file}\n`]);
    assert.deepEqual(io.err, []);
  });

  void it('prints one issue per line on stderr and returns 1', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'server:\n  foo: 1\nterraform:\n  metadata:\n    ttl: 10x\n');
    const io = capture();
    assert.equal(await runValidate(file, { REGCACHE_LOG_LEVEL: 'loud' }, {}, io), 1);
    assert.deepEqual(io.out, []);
    assert.equal(io.err.length, 3);
    assert.ok(io.err.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1));
    assert.ok(io.err.includes('server.foo: unknown key\n'));
    assert.ok(io.err.includes('terraform.metadata.ttl: invalid duration "10x"\n'));
  });
});
