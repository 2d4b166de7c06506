#!/usr/bin/env node
/**
 * The `regcache` command. Exit codes: 0 ok, 1 invalid configuration or
 * failed start, 2 usage error.
 */
import { ConfigError } from '../config/load.js';
import { VERSION } from '../version.js';
import { parseCliArgs, USAGE } from './args.js';
import { runServe } from './serve.js';
import { runValidate } from './validate.js';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`regcache: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  switch (args.command) {
    case 'serve':
      return runServe(args.configFile, process.env, args.flags);
    case 'validate':
      return runValidate(args.configFile, process.env, args.flags);
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`regcache: unknown command ${JSON.stringify(args.command)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`config: ${issue}\n`);
    } else {
      process.stderr.write(`regcache: ${(err as Error).message}\n`);
    }
    process.exitCode = 1;
  },
);
