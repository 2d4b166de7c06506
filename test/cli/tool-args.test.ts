/**
 * Parsing of the client commands' flags: values, repeats, switches, and
 * flags given to a command that does not take them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { misplacedOption, parseCliArgs } from '../../src/cli/args.js';
import { apiUrl, mask } from '../../src/cli/kit/tool-io.js';

void describe('parseCliArgs: client commands', () => {
  void it('collects client flags into tool, repeats in order', () => {
    const parsed = parseCliArgs([
      'warm',
      '--server=https://cache.example.com',
      '--token',
      'secret-secret-secret',
      '--platform',
      'linux_amd64',
      '--platform=darwin_arm64',
      '--provider',
      'hashicorp/aws@~> 5.0',
      'dir',
    ]);
    assert.deepEqual(parsed, {
      command: 'warm',
      flags: {},
      rest: ['dir'],
      tool: {
        server: 'https://cache.example.com',
        token: 'secret-secret-secret',
        platforms: ['linux_amd64', 'darwin_arm64'],
        providers: ['hashicorp/aws@~> 5.0'],
      },
    });
    assert.equal(misplacedOption(parsed), undefined);
  });

  void it('reads switches and rejects values on them', () => {
    assert.deepEqual(parseCliArgs(['gc', '--dry-run', '--force', '--json', '--max-size', '10GiB']).tool, { maxSize: '10GiB', dryRun: true, force: true, json: true });
    assert.throws(() => parseCliArgs(['gc', '--dry-run=yes']), { message: '--dry-run does not take a value' });
    assert.throws(() => parseCliArgs(['warm', '--platform']), { message: '--platform needs a value' });
  });

  void it('names a flag given to a command that does not take it', () => {
    assert.equal(misplacedOption(parseCliArgs(['serve', '--server', 'https://x'])), '--server is not an option of serve');
    assert.equal(misplacedOption(parseCliArgs(['warm', '--dry-run'])), '--dry-run is not an option of warm');
    assert.equal(misplacedOption(parseCliArgs(['purge', '--config', 'x.yaml', 'h'])), '--config is not an option of purge');
    assert.equal(misplacedOption(parseCliArgs(['lock', '--token', 'abc'])), '--token is not an option of lock');
    assert.equal(misplacedOption(parseCliArgs(['gc', '--storage-path', '/srv', '--max-size', '1'])), undefined);
    assert.equal(misplacedOption(parseCliArgs(['ls', '--config', 'x.yaml'])), undefined);
  });
});

void describe('client helpers', () => {
  void it('builds API URLs under a base path', () => {
    assert.equal(apiUrl(new URL('https://cache.example.com'), '/admin/cache').href, 'https://cache.example.com/admin/cache');
    assert.equal(apiUrl(new URL('https://example.com/regcache/'), '/v1/mirror').href, 'https://example.com/regcache/v1/mirror');
  });

  void it('masks every secret occurrence', () => {
    assert.equal(mask('a tok b tok', ['tok', '']), 'a *** b ***');
  });
});
