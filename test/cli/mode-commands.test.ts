/**
 * Commands a mode adds to `regcache` (ModeDefinition.commands): they are
 * found through the registry, parsed with their own options, refused
 * options they do not declare, listed in the help, and a clash with a
 * built-in command or another mode's declaration is an error at load.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { MODE_COMMANDS, misplacedOption, modeCommands, parseCliArgs, secretOptions, USAGE } from '../../src/cli/args.js';
import type { ClientCommand } from '../../src/cli/kit/command.js';
import { runTool, stringOption, type ToolContext } from '../../src/cli/kit/tool-io.js';
import { defineMode, type RegisteredMode } from '../../src/mirrors/mode.js';
import { MODES } from '../../src/mirrors/modes.js';
import { printed, runCli } from './run-cli.js';

const body = (): Promise<(ctx: ToolContext) => Promise<number>> => Promise.resolve(() => Promise.resolve(0));

function modeWith(name: string, commands: ClientCommand[]): RegisteredMode {
  return defineMode({ name, summary: name, schema: z.object({}), commands, create: () => Promise.reject(new Error('not started in this test')) });
}

const command = (name: string, options: ClientCommand['options'] = []): ClientCommand => ({ name, help: `${name} things`, shared: ['server'], options, load: body });

void describe('mode commands', () => {
  void it('come from the registered modes: terraform brings warm and lock', () => {
    const fromRegistry = MODES.flatMap((m) => m.commands.map((c) => c.name));
    assert.deepEqual([...MODE_COMMANDS.keys()], fromRegistry);
    assert.ok(MODE_COMMANDS.has('warm') && MODE_COMMANDS.has('lock'), fromRegistry.join(','));
    for (const name of fromRegistry) assert.match(USAGE, new RegExp(`\\n  ${name} +\\S`), `help lists ${name}`);
    assert.match(USAGE, /terraform commands/);
  });

  void it('parse their own options and refuse the ones they do not declare', () => {
    const lock = parseCliArgs(['lock', '--server', 'https://c', '--platform', 'linux_amd64', '--client-token', 'tok', '--upgrade', 'dir']);
    assert.deepEqual(lock.tool, { server: 'https://c', platforms: ['linux_amd64'], clientToken: 'tok', upgrade: true });
    assert.equal(misplacedOption(lock), undefined);
    assert.equal(misplacedOption(parseCliArgs(['warm', '--upgrade'])), '--upgrade is not an option of warm');
    assert.equal(misplacedOption(parseCliArgs(['gc', '--platform', 'linux_amd64'])), '--platform is not an option of gc');
    assert.equal(misplacedOption(parseCliArgs(['lock', '--config', 'x.yaml'])), '--config is not an option of lock');
  });

  void it('mask the options they declare secret', async () => {
    assert.deepEqual(secretOptions('lock'), ['clientToken']);
    const secret = 'client-secret-9f3e1a';
    let stderr = '';
    const ctx: ToolContext = {
      args: { command: 'lock', rest: [] },
      opts: { clientToken: secret },
      env: {},
      io: { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } },
    };
    const code = await runTool(ctx, (c) => Promise.reject(new Error(`upstream refused ${stringOption(c, 'clientToken') ?? ''}`)), secretOptions('lock'));
    assert.equal(code, 1);
    assert.equal(stderr, 'regcache lock: upstream refused ***\n');
  });

  void it('may not take a built-in name, another mode\'s name, or redeclare a flag differently', () => {
    assert.throws(() => modeCommands([modeWith('a', [command('ls')])]), /command "ls" is already taken/);
    assert.throws(() => modeCommands([modeWith('a', [command('sync')]), modeWith('b', [command('sync')])]), /mode b: command "sync" is already taken/);
    assert.throws(() => modeCommands([modeWith('a', [command('x', [{ flag: 'server', key: 'server', type: 'string' }])])]), /--server of x is a built-in option/);
    assert.throws(() => modeCommands([modeWith('a', [command('x', [{ flag: 'srv', key: 'server', type: 'string' }])])]), /--srv of x is a built-in option/);
    assert.throws(
      () => modeCommands([modeWith('a', [command('x', [{ flag: 'arch', key: 'arch', type: 'string' }]), command('y', [{ flag: 'cpu', key: 'arch', type: 'string' }])])]),
      /--cpu of y uses the key "arch" of another flag/,
    );
    assert.throws(
      () => modeCommands([modeWith('a', [command('x', [{ flag: 'arch', key: 'arch', type: 'string' }]), command('y', [{ flag: 'arch', key: 'arch', type: 'boolean' }])])]),
      /--arch of y differs/,
    );
    const ok = modeCommands([modeWith('a', [command('x', [{ flag: 'arch', key: 'arches', type: 'string', multiple: true }])]), modeWith('b', [command('y', [{ flag: 'arch', key: 'arches', type: 'string', multiple: true }])])]);
    assert.deepEqual([...ok.keys()], ['x', 'y']);
  });

  void it('run through the real command line, and an unknown command is a usage error', async () => {
    const lock = await runCli(['lock', '--platform', 'nonsense']);
    assert.equal(lock.code, 2, printed(lock));
    assert.match(lock.stderr, /^regcache lock: no server given/m);
    const unknown = await runCli(['nosuchcommand']);
    assert.equal(unknown.code, 2, printed(unknown));
    assert.match(unknown.stderr, /unknown command "nosuchcommand"/);
  });
});
