/**
 * `regcache validate`: checks a configuration exactly as `serve` would load
 * it (file, environment and flags), so CI and operators can catch mistakes
 * before a deploy.
 */
import { ConfigError, loadConfigReport, type ConfigFlags } from '../config/load.js';

/** Where validate writes; injectable so tests can capture output. */
export interface ValidateOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * Loads the configuration and reports the outcome: `ignored: <key>: <why>`
 * for each key that has no effect, then `ok: <file>` on stdout and 0, or one issue per line on stderr and 1. Errors other than
 * ConfigError are bugs and are rethrown.
 */
export async function runValidate(
  configFile: string | undefined,
  env: NodeJS.ProcessEnv,
  flags: ConfigFlags,
  output: ValidateOutput = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let ignored: string[];
  try {
    ({ ignored } = await loadConfigReport({ file: configFile, env, flags }));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) output.stderr.write(`${issue}\n`);
    return 1;
  }
  for (const line of ignored) output.stdout.write(`ignored: ${line}\n`);
  output.stdout.write(`ok: ${configFile ?? '(defaults, environment and flags)'}\n`);
  return 0;
}
