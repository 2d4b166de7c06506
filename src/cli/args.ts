/**
 * Command-line parsing for `regcache <command> [options]`. Configuration
 * flags are only collected here; their values are validated together with
 * the file and environment by the config loader, so every source produces
 * the same error messages.
 */
import { parseArgs } from 'node:util';
import type { ConfigFlags, ConfigSetting } from '../config/load.js';

/** Re-exported so CLI callers need only this module to build flags for loadConfig. */
export type { ConfigFlags, ConfigSetting } from '../config/load.js';

/** The result of parsing argv: which command to run and the configuration it gets. */
export interface CliArgs {
  readonly command: string;
  readonly configFile?: string;
  readonly flags: ConfigFlags;
  /** Positional arguments after the command. */
  readonly rest: string[];
  /** Options of the client commands (warm, lock, ls, purge, gc); absent when none was given. */
  readonly tool?: ToolOptions;
}

/** Options of the commands that talk to a running regcache or work on its store. */
export interface ToolOptions {
  readonly server?: string;
  readonly token?: string;
  readonly clientToken?: string;
  readonly ca?: string;
  readonly platforms?: readonly string[];
  readonly providers?: readonly string[];
  readonly maxSize?: string;
  readonly expireAfter?: string;
  readonly modules?: boolean;
  /** purge: the instance whose keys the target names (any mode), instead of Terraform's provider/module paths. */
  readonly instance?: string;
  readonly metadataOnly?: boolean;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly upgrade?: boolean;
  readonly json?: boolean;
}

/** Command run when argv names none. */
export const DEFAULT_COMMAND = 'serve';

const OPTIONS = {
  config: { type: 'string' },
  listen: { type: 'string' },
  'storage-path': { type: 'string' },
  'log-level': { type: 'string' },
  'public-url': { type: 'string' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  server: { type: 'string' },
  token: { type: 'string' },
  'client-token': { type: 'string' },
  ca: { type: 'string' },
  platform: { type: 'string', multiple: true },
  provider: { type: 'string', multiple: true },
  'max-size': { type: 'string' },
  'expire-after': { type: 'string' },
  modules: { type: 'boolean' },
  instance: { type: 'string' },
  'metadata-only': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  upgrade: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;
type ToolKey = keyof ToolOptions;

/** Client-command flags: option name → ToolOptions key. */
const TOOL_FLAGS: Readonly<Partial<Record<OptionName, ToolKey>>> = {
  server: 'server',
  token: 'token',
  'client-token': 'clientToken',
  ca: 'ca',
  platform: 'platforms',
  provider: 'providers',
  'max-size': 'maxSize',
  'expire-after': 'expireAfter',
  modules: 'modules',
  instance: 'instance',
  'metadata-only': 'metadataOnly',
  'dry-run': 'dryRun',
  force: 'force',
  upgrade: 'upgrade',
  json: 'json',
};

/** Configuration flags (besides --config) and where they make sense. */
const CONFIG_FLAGS: Readonly<Record<string, OptionName>> = {
  listen: 'listen',
  storagePath: 'storage-path',
  logLevel: 'log-level',
  publicUrl: 'public-url',
  set: 'set',
};

const CONNECT: readonly ToolKey[] = ['server', 'token', 'ca'];

/**
 * Which flags each command accepts; anything else is a usage error, so a
 * flag given to the wrong command is never silently ignored. `config: true`
 * allows --config and the configuration flags.
 */
const COMMAND_FLAGS: Readonly<Record<string, { tool: readonly ToolKey[]; config: boolean }>> = {
  serve: { tool: [], config: true },
  validate: { tool: [], config: true },
  warm: { tool: [...CONNECT, 'platforms', 'providers'], config: false },
  lock: { tool: ['server', 'ca', 'clientToken', 'platforms', 'upgrade'], config: false },
  ls: { tool: [...CONNECT, 'json'], config: true },
  purge: { tool: [...CONNECT, 'modules', 'instance', 'metadataOnly', 'json'], config: false },
  gc: { tool: [...CONNECT, 'dryRun', 'force', 'maxSize', 'expireAfter', 'json'], config: true },
};

const SET_KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

/** Usage text for `regcache help`; kept next to the parser so the two cannot drift apart. */
export const USAGE = `usage: regcache <command> [options]

commands:
  serve       run the mirror (default)
  validate    check the configuration and exit
  warm        pull providers into a running regcache's cache
                regcache warm [LOCKFILE | DIR | FILE.tf | --provider SRC@CONSTRAINT ...]
                (default DIR: the current directory's required_providers)
  lock        write DIR/.terraform.lock.hcl with h1: and zh: hashes for every
              --platform, downloading each package through regcache
                regcache lock --server URL --platform OS_ARCH ... [DIR]
  ls          list cached providers and modules
  purge       remove cached objects: regcache purge [--modules] HOST[/NS[/TYPE[/VERSION]]]
              or, for any mode instance: regcache purge --instance NAME PATH
  gc          apply retention (storage.maxSize / storage.expireAfter) now
  version     print the version
  help        show this text

server options (serve, validate; ls and gc without --server work on the store directly):
  --config FILE          YAML configuration file
  --listen HOST:PORT     address to listen on (IPv6 as [::1]:8443)
  --storage-path DIR     cache directory
  --log-level LEVEL      fatal|error|warn|info|debug|trace|silent
  --public-url URL       externally visible base URL
  --set KEY=VALUE        set any configuration key, e.g. --set terraform.metadata.ttl=5m
  -h, --help             show this text

client options (warm, lock, ls, purge, gc):
  --server URL           a running regcache, e.g. https://cache.example.com
                         (env REGCACHE_SERVER)
  --token TOKEN          admin token (env REGCACHE_ADMIN_TOKEN, preferred: flags
                         show up in process lists); never printed
  --ca FILE              extra CA certificate to trust for https (NODE_EXTRA_CA_CERTS
                         is honoured too)
  --platform OS_ARCH     warm/lock: a platform, repeatable (warm default: the server's,
                         linux_amd64; lock default: this machine's)
  --provider SRC[@C]     warm: a provider and optional constraint, repeatable, e.g.
                         'registry.terraform.io/hashicorp/aws@~> 5.0' (default: newest)
  --client-token TOKEN   lock: bearer token for the mirror's JSON (private providers)
  --upgrade              lock: pick the newest matching versions even if DIR's lock
                         file already selects a version that still matches
  --modules              purge: module cache (/v1/modules/) instead of providers
  --instance NAME        purge: the instance NAME's objects under PATH (its mode maps PATH to keys)
  --metadata-only        purge: remove only metadata, keep downloaded packages
  --dry-run              gc: report what would be removed, remove nothing
  --json                 ls, purge, gc: print JSON instead of text
  --max-size SIZE        gc on a store: override storage.maxSize, e.g. 10GiB
  --expire-after DUR     gc on a store: override storage.expireAfter, e.g. 30d
  --force                gc on a store: really remove files (see below)

ls and gc without --server open the store under --config's storage.path (or
--storage-path) directly. Listing is safe at any time. Removing is not: a
running server may be filling or streaming those files and keeps its own
view of them, so stop it first or use --server (which skips objects in
use). gc on a store therefore removes nothing without --force; --dry-run
needs none.

exit codes: 0 ok, 1 failure (including a failed warm job), 2 usage error
`;

function parseSetting(text: string): ConfigSetting {
  const eq = text.indexOf('=');
  const path = eq === -1 ? '' : text.slice(0, eq);
  if (!SET_KEY.test(path)) {
    throw new Error(`--set expects KEY=VALUE with a dotted key such as log.level=debug, got ${JSON.stringify(text)}`);
  }
  return { path, value: text.slice(eq + 1) };
}

/**
 * Parses argv (without the node binary and script path). Unknown flags,
 * missing values and malformed `--set` entries throw an Error naming the flag.
 * `--help` anywhere turns the command into "help" with the other positionals in `rest`.
 */
export function parseCliArgs(argv: string[]): CliArgs {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const values = new Map<OptionName, string>();
  const lists = new Map<OptionName, string[]>();
  const switches = new Set<OptionName>();
  const settings: ConfigSetting[] = [];
  const positionals: string[] = [];

  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const { name, rawName, value, inlineValue } = token;
    if (!isOptionName(name)) throw new Error(`unknown option ${rawName} (see regcache --help)`);
    if (OPTIONS[name].type === 'boolean') {
      if (value !== undefined) throw new Error(`${rawName} does not take a value`);
      switches.add(name);
      continue;
    }
    if (value === undefined || (inlineValue !== true && value.startsWith('-'))) {
      throw new Error(`${rawName} needs a value`);
    }
    if (name === 'set') settings.push(parseSetting(value));
    else if (value === '') throw new Error(`${rawName} needs a non-empty value`);
    else if ('multiple' in OPTIONS[name]) lists.set(name, [...(lists.get(name) ?? []), value]);
    else values.set(name, value);
  }

  const help = switches.has('help');
  const [first, ...others] = positionals;
  const flags: { listen?: string; storagePath?: string; logLevel?: string; publicUrl?: string; set?: ConfigSetting[] } =
    {};
  const listen = values.get('listen');
  const storagePath = values.get('storage-path');
  const logLevel = values.get('log-level');
  const publicUrl = values.get('public-url');
  const configFile = values.get('config');
  if (listen !== undefined) flags.listen = listen;
  if (storagePath !== undefined) flags.storagePath = storagePath;
  if (logLevel !== undefined) flags.logLevel = logLevel;
  if (publicUrl !== undefined) flags.publicUrl = publicUrl;
  if (settings.length > 0) flags.set = settings;
  const tool = toolOptions(values, lists, switches);
  return {
    command: help ? 'help' : (first ?? DEFAULT_COMMAND),
    ...(configFile === undefined ? {} : { configFile }),
    flags,
    rest: help ? positionals.filter((word) => word !== 'help') : others,
    ...(tool === undefined ? {} : { tool }),
  };
}

function toolOptions(values: Map<OptionName, string>, lists: Map<OptionName, string[]>, switches: Set<OptionName>): ToolOptions | undefined {
  const tool: Record<string, string | readonly string[] | boolean> = {};
  for (const [name, key] of Object.entries(TOOL_FLAGS) as Array<[OptionName, ToolKey]>) {
    const value = values.get(name) ?? lists.get(name) ?? (switches.has(name) ? true : undefined);
    if (value !== undefined) tool[key] = value;
  }
  return Object.keys(tool).length === 0 ? undefined : tool;
}

/**
 * Checks that every flag given suits the command; returns a message naming
 * the first one that does not (undefined when all fit or the command is
 * unknown, which main reports itself).
 */
export function misplacedOption(args: CliArgs): string | undefined {
  const allowed = COMMAND_FLAGS[args.command];
  if (allowed === undefined) return undefined;
  for (const [name, key] of Object.entries(TOOL_FLAGS) as Array<[OptionName, ToolKey]>) {
    if (args.tool?.[key] !== undefined && !allowed.tool.includes(key)) return `--${name} is not an option of ${args.command}`;
  }
  if (allowed.config) return undefined;
  if (args.configFile !== undefined) return `--config is not an option of ${args.command}`;
  for (const [key, name] of Object.entries(CONFIG_FLAGS)) {
    if (args.flags[key as keyof ConfigFlags] !== undefined) return `--${name} is not an option of ${args.command}`;
  }
  return undefined;
}
