#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=4
/**
 * The `regcache` command. Exit codes: 0 ok, 1 invalid configuration,
 * failed start or failed operation, 2 usage error. Commands are imported
 * when run: the server's modules take seconds to load, and the client
 * commands need none of them.
 */
import { ConfigError } from '../config/load.js';
import { VERSION } from '../version.js';
import { misplacedOption, MODE_COMMANDS, parseCliArgs, secretOptions, USAGE, type CliArgs, type CliToolContext } from './args.js';

/** Client commands print their own failures (with secrets masked) and return the exit code. */
async function runClientCommand(args: CliArgs, run: (ctx: CliToolContext) => Promise<number>): Promise<number> {
  const { runTool } = await import('./kit/tool-io.js');
  const ctx: CliToolContext = { args, opts: args.tool ?? {}, env: process.env, io: { stdout: process.stdout, stderr: process.stderr } };
  return runTool(ctx, run, secretOptions(args.command));
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`regcache: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const misplaced = misplacedOption(args);
  if (misplaced !== undefined) {
    process.stderr.write(`regcache: ${misplaced} (see regcache --help)\n`);
    return 2;
  }
  switch (args.command) {
    case 'serve':
      return (await import('./serve.js')).runServe(args.configFile, process.env, args.flags);
    case 'validate':
      return (await import('./validate.js')).runValidate(args.configFile, process.env, args.flags);
    case 'ls':
      return runClientCommand(args, (await import('./ls.js')).runLs);
    case 'purge':
      return runClientCommand(args, (await import('./purge.js')).runPurge);
    case 'gc':
      return runClientCommand(args, (await import('./gc.js')).runGc);
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default: {
      const command = MODE_COMMANDS.get(args.command);
      if (command !== undefined) return runClientCommand(args, await command.load());
      process.stderr.write(`regcache: unknown command ${JSON.stringify(args.command)}\n${USAGE}`);
      return 2;
    }
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
