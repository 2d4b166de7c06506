/**
 * Command-line parsing for `regcache <command> [options]`. Configuration
 * flags are only collected here; their values are validated together with
 * the file and environment by the config loader, so every source produces
 * the same error messages.
 */
import { parseArgs } from 'node:util';
import type { ConfigFlags, ConfigSetting } from '../config/load.js';
import type { RegisteredMode } from '../mirrors/mode.js';
import { MODES } from '../mirrors/modes.js';
import type { ClientCommand, CommandOption } from './kit/command.js';
import type { ToolArgs, ToolContext, ToolOptions } from './kit/tool-io.js';

/** Re-exported so CLI callers need only this module to build flags for loadConfig. */
export type { ConfigFlags, ConfigSetting } from '../config/load.js';

/** The result of parsing argv: which command to run and the configuration it gets. */
export interface CliArgs extends ToolArgs {
  readonly configFile?: string;
  readonly flags: ConfigFlags;
  /** Positional arguments after the command. */
  readonly rest: string[];
  /** Options of the client commands (ls, purge, gc and the modes' commands); absent when none was given. */
  readonly tool?: CliToolOptions;
}

/** Options of the built-in commands that talk to a running regcache or work on its store. */
export interface CliToolOptions extends ToolOptions {
  readonly maxSize?: string;
  readonly expireAfter?: string;
  readonly modules?: boolean;
  /** purge: the instance whose keys the target names (any mode), instead of Terraform's provider/module paths. */
  readonly instance?: string;
  readonly metadataOnly?: boolean;
  readonly dryRun?: boolean;
  readonly force?: boolean;
}

/** The context of the built-in client commands (ls and gc may open a store from the configuration flags). */
export interface CliToolContext extends ToolContext {
  readonly args: CliArgs;
  readonly opts: CliToolOptions;
}

/** Command run when argv names none. */
export const DEFAULT_COMMAND = 'serve';

type OptionSpec = { readonly type: 'string' | 'boolean'; readonly multiple?: boolean; readonly short?: string };

/** Options of the server and the built-in commands. */
const BASE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: { type: 'string' },
  listen: { type: 'string' },
  'storage-path': { type: 'string' },
  'log-level': { type: 'string' },
  'public-url': { type: 'string' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  server: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  'max-size': { type: 'string' },
  'expire-after': { type: 'string' },
  modules: { type: 'boolean' },
  instance: { type: 'string' },
  'metadata-only': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
};

/** Built-in client-command flags: option name → ToolOptions key. */
const BASE_TOOL_FLAGS: Readonly<Record<string, string>> = {
  server: 'server',
  token: 'token',
  ca: 'ca',
  'max-size': 'maxSize',
  'expire-after': 'expireAfter',
  modules: 'modules',
  instance: 'instance',
  'metadata-only': 'metadataOnly',
  'dry-run': 'dryRun',
  force: 'force',
  json: 'json',
};

/** Configuration flags (besides --config) and where they make sense. */
const CONFIG_FLAGS: Readonly<Record<string, string>> = {
  listen: 'listen',
  storagePath: 'storage-path',
  logLevel: 'log-level',
  publicUrl: 'public-url',
  set: 'set',
};

const CONNECT = ['server', 'token', 'ca'] as const;

/** What a command accepts: ToolOptions keys, and whether --config and the configuration flags. */
interface CommandFlags {
  readonly tool: readonly string[];
  readonly config: boolean;
}

/**
 * Which flags each built-in command accepts; anything else is a usage
 * error, so a flag given to the wrong command is never silently ignored.
 */
const BUILTIN_FLAGS: Readonly<Record<string, CommandFlags>> = {
  serve: { tool: [], config: true },
  validate: { tool: [], config: true },
  ls: { tool: [...CONNECT, 'json'], config: true },
  purge: { tool: [...CONNECT, 'modules', 'instance', 'metadataOnly', 'json'], config: false },
  gc: { tool: [...CONNECT, 'dryRun', 'force', 'maxSize', 'expireAfter', 'json'], config: true },
};

/** Built-in commands besides those in BUILTIN_FLAGS (they take no options). */
const PLAIN_COMMANDS = ['version', 'help'];

/** The commands the registered modes add, by name. */
export const MODE_COMMANDS: ReadonlyMap<string, ClientCommand> = modeCommands(MODES);

/**
 * Collects the modes' commands and checks them against the built-in ones
 * and each other: a name taken twice, or a flag declared with two meanings,
 * is a programming error caught when the command line loads.
 */
export function modeCommands(modes: readonly RegisteredMode[]): Map<string, ClientCommand> {
  const commands = new Map<string, ClientCommand>();
  const flags = new Map<string, CommandOption>();
  for (const mode of modes) {
    for (const command of mode.commands) {
      if (Object.hasOwn(BUILTIN_FLAGS, command.name) || PLAIN_COMMANDS.includes(command.name) || commands.has(command.name)) {
        throw new Error(`mode ${mode.name}: command ${JSON.stringify(command.name)} is already taken`);
      }
      for (const option of command.options) {
        if (Object.hasOwn(BASE_OPTIONS, option.flag) || Object.values(BASE_TOOL_FLAGS).includes(option.key)) {
          throw new Error(`mode ${mode.name}: --${option.flag} of ${command.name} is a built-in option`);
        }
        if ([...flags.values()].some((o) => o.key === option.key && o.flag !== option.flag)) {
          throw new Error(`mode ${mode.name}: --${option.flag} of ${command.name} uses the key ${JSON.stringify(option.key)} of another flag`);
        }
        const other = flags.get(option.flag);
        if (other !== undefined && (other.key !== option.key || other.type !== option.type || (other.multiple ?? false) !== (option.multiple ?? false))) {
          throw new Error(`mode ${mode.name}: --${option.flag} of ${command.name} differs from its declaration by another command`);
        }
        flags.set(option.flag, option);
      }
      commands.set(command.name, command);
    }
  }
  return commands;
}

const MODE_OPTIONS: readonly CommandOption[] = [...new Map([...MODE_COMMANDS.values()].flatMap((c) => c.options.map((o) => [o.flag, o] as const))).values()];

/** Every option parseCliArgs knows. */
const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  ...BASE_OPTIONS,
  ...Object.fromEntries(MODE_OPTIONS.map((o) => [o.flag, { type: o.type, ...(o.multiple === true ? { multiple: true } : {}) }])),
};

/** Client-command flags: option name → ToolOptions key. */
const TOOL_FLAGS: Readonly<Record<string, string>> = { ...BASE_TOOL_FLAGS, ...Object.fromEntries(MODE_OPTIONS.map((o) => [o.flag, o.key])) };

/** Which flags each command accepts, the modes' commands included. */
const COMMAND_FLAGS: Readonly<Record<string, CommandFlags>> = {
  ...BUILTIN_FLAGS,
  ...Object.fromEntries([...MODE_COMMANDS.values()].map((c) => [c.name, { tool: [...c.shared, ...c.options.map((o) => o.key)], config: false }])),
};

/** The option keys whose values a command must mask in its messages. */
export function secretOptions(command: string): string[] {
  return MODE_COMMANDS.get(command)?.options.filter((o) => o.secret === true).map((o) => o.key) ?? [];
}

const SET_KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

/** A mode command's entry in the usage text: the summary after its name, the rest indented under it. */
function commandUsage(command: ClientCommand): string {
  const [summary = '', ...more] = command.help.trim().split('\n');
  return [`  ${command.name.padEnd(11)} ${summary}`, ...more.map((line) => `                ${line.trimEnd()}`)].join('\n') + '\n';
}

const MODE_COMMAND_NAMES = [...MODE_COMMANDS.keys()];

/** Usage text for `regcache help`; built next to the parser, and from the modes' commands, so the two cannot drift apart. */
export const USAGE = `usage: regcache <command> [options]

commands:
  serve       run the mirror (default)
  validate    check the configuration and exit
  ls          list cached providers, modules and files
  purge       remove cached objects: regcache purge [--modules] HOST[/NS[/TYPE[/VERSION]]]
              or, for any mode instance: regcache purge --instance NAME PATH
  gc          apply retention (storage.maxSize / storage.expireAfter) now
  version     print the version
  help        show this text
${MODES.filter((m) => m.commands.length > 0).map((m) => `\n${m.name} commands (their own options listed under them):\n${m.commands.map(commandUsage).join('')}`).join('')}
server options (serve, validate; ls and gc without --server work on the store directly):
  --config FILE          YAML configuration file
  --listen HOST:PORT     address to listen on (IPv6 as [::1]:8443)
  --storage-path DIR     cache directory
  --log-level LEVEL      fatal|error|warn|info|debug|trace|silent
  --public-url URL       externally visible base URL
  --set KEY=VALUE        set any configuration key, e.g. --set terraform.metadata.ttl=5m
  -h, --help             show this text

client options (${['ls', 'purge', 'gc', ...MODE_COMMAND_NAMES].join(', ')}):
  --server URL           a running regcache, e.g. https://cache.example.com
                         (env REGCACHE_SERVER)
  --token TOKEN          admin token (env REGCACHE_ADMIN_TOKEN, preferred: flags
                         show up in process lists); never printed
  --ca FILE              extra CA certificate to trust for https (NODE_EXTRA_CA_CERTS
                         is honoured too)
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
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const switches = new Set<string>();
  const settings: ConfigSetting[] = [];
  const positionals: string[] = [];

  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const { name, rawName, value, inlineValue } = token;
    const spec = Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
    if (spec === undefined) throw new Error(`unknown option ${rawName} (see regcache --help)`);
    if (spec.type === 'boolean') {
      if (value !== undefined) throw new Error(`${rawName} does not take a value`);
      switches.add(name);
      continue;
    }
    if (value === undefined || (inlineValue !== true && value.startsWith('-'))) {
      throw new Error(`${rawName} needs a value`);
    }
    if (name === 'set') settings.push(parseSetting(value));
    else if (value === '') throw new Error(`${rawName} needs a non-empty value`);
    else if (spec.multiple === true) lists.set(name, [...(lists.get(name) ?? []), value]);
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

function toolOptions(values: Map<string, string>, lists: Map<string, string[]>, switches: Set<string>): CliToolOptions | undefined {
  const tool: Record<string, string | readonly string[] | boolean> = {};
  for (const [name, key] of Object.entries(TOOL_FLAGS)) {
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
  for (const [name, key] of Object.entries(TOOL_FLAGS)) {
    if (args.tool?.[key] !== undefined && !allowed.tool.includes(key)) return `--${name} is not an option of ${args.command}`;
  }
  if (allowed.config) return undefined;
  if (args.configFile !== undefined) return `--config is not an option of ${args.command}`;
  for (const [key, name] of Object.entries(CONFIG_FLAGS)) {
    if (args.flags[key as keyof ConfigFlags] !== undefined) return `--${name} is not an option of ${args.command}`;
  }
  return undefined;
}
