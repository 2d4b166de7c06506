/**
 * The commands the Terraform mode adds to `regcache`: `warm` (pull
 * providers into a running regcache) and `lock` (write a lock file with
 * the hashes of every platform through regcache). Declarations only: the
 * bodies load when a command runs.
 */
import type { ClientCommand } from '../../../cli/kit/command.js';

const platform = { flag: 'platform', key: 'platforms', type: 'string', multiple: true } as const;

export const terraformCommands: readonly ClientCommand[] = [
  {
    name: 'warm',
    help: `pull providers into a running regcache's cache (needs the admin token)
regcache warm --server URL [LOCKFILE | DIR | FILE.tf | --provider SRC@CONSTRAINT ...]
(default DIR: the current directory's required_providers)
--platform OS_ARCH     a platform, repeatable (default: the server's, linux_amd64)
--provider SRC[@C]     a provider and optional constraint, repeatable, e.g.
                       'registry.terraform.io/hashicorp/aws@~> 5.0' (default: newest)`,
    shared: ['server', 'token', 'ca'],
    options: [platform, { flag: 'provider', key: 'providers', type: 'string', multiple: true }],
    load: async () => (await import('./warm.js')).runWarm,
  },
  {
    name: 'lock',
    help: `write DIR/.terraform.lock.hcl with the h1: and zh: hashes of every
platform asked for, downloading each package through regcache
regcache lock --server URL --platform OS_ARCH ... [DIR]
--platform OS_ARCH     a platform, repeatable (default: this machine's)
--client-token TOKEN   bearer token for the mirror's JSON (private providers)
--upgrade              pick the newest matching versions even if DIR's lock
                       file already selects a version that still matches`,
    shared: ['server', 'ca'],
    options: [platform, { flag: 'client-token', key: 'clientToken', type: 'string', secret: true }, { flag: 'upgrade', key: 'upgrade', type: 'boolean' }],
    load: async () => (await import('./lock.js')).runLock,
  },
];
