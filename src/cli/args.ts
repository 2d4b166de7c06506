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
} as const;

type OptionName = keyof typeof OPTIONS;

const SET_KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

/** Usage text for `regcache help`; kept next to the parser so the two cannot drift apart. */
export const USAGE = `usage: regcache <command> [options]

commands:
  serve       run the mirror (default)
  validate    check the configuration and exit
  help        show this text

options:
  --config FILE          YAML configuration file
  --listen HOST:PORT     address to listen on (IPv6 as [::1]:8443)
  --storage-path DIR     cache directory
  --log-level LEVEL      fatal|error|warn|info|debug|trace|silent
  --public-url URL       externally visible base URL
  --set KEY=VALUE        set any configuration key, e.g. --set terraform.metadata.ttl=5m
  -h, --help             show this text
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
  const values = new Map<Exclude<OptionName, 'set' | 'help'>, string>();
  const settings: ConfigSetting[] = [];
  const positionals: string[] = [];
  let help = false;

  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const { name, rawName, value, inlineValue } = token;
    if (!isOptionName(name)) throw new Error(`unknown option ${rawName} (see regcache --help)`);
    if (name === 'help') {
      if (value !== undefined) throw new Error(`${rawName} does not take a value`);
      help = true;
      continue;
    }
    if (value === undefined || (inlineValue !== true && value.startsWith('-'))) {
      throw new Error(`${rawName} needs a value`);
    }
    if (name === 'set') settings.push(parseSetting(value));
    else if (value === '') throw new Error(`${rawName} needs a non-empty value`);
    else values.set(name, value);
  }

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
  return {
    command: help ? 'help' : (first ?? DEFAULT_COMMAND),
    ...(configFile === undefined ? {} : { configFile }),
    flags,
    rest: help ? positionals.filter((word) => word !== 'help') : others,
  };
}
