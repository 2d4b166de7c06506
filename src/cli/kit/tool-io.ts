/**
 * What the client commands share: where they write, how they fail, and how
 * the server URL and admin token are found. Failures are exceptions caught
 * in one place, which prints them with every secret masked, so no code path
 * can leak a token into a terminal or a CI log.
 */

/** What a command sees of its command line. */
export interface ToolArgs {
  readonly command: string;
  /** Positional arguments after the command. */
  readonly rest: readonly string[];
}

/** An option value as parsed: a string, a repeatable option's list, or a switch. */
export type OptionValue = string | readonly string[] | boolean;

/**
 * The client options given. The shared ones are typed here; a mode
 * command's own options (declared in its ClientCommand) are read with
 * stringOption / listOption / switchOption.
 */
export interface ToolOptions {
  readonly server?: string;
  readonly token?: string;
  readonly ca?: string;
  readonly json?: boolean;
  readonly [option: string]: OptionValue | undefined;
}

/** Output streams; injectable so tests can capture them. */
export interface ToolIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
}

/** A command's context. */
export interface ToolContext {
  readonly args: ToolArgs;
  readonly opts: ToolOptions;
  readonly env: NodeJS.ProcessEnv;
  readonly io: ToolIo;
}

/** A string option's value (undefined when not given). */
export function stringOption(ctx: ToolContext, key: string): string | undefined {
  const v = ctx.opts[key];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable option's values in the order given (undefined when not given). */
export function listOption(ctx: ToolContext, key: string): readonly string[] | undefined {
  const v = ctx.opts[key];
  return Array.isArray(v) ? (v as readonly string[]) : undefined;
}

/** Whether a switch was given. */
export function switchOption(ctx: ToolContext, key: string): boolean {
  return ctx.opts[key] === true;
}

/** Bad invocation: exit 2. */
export class UsageError extends Error {}

/** The operation failed: exit 1. */
export class CommandError extends Error {}

/** The server to talk to (`--server`, else REGCACHE_SERVER). */
export function serverUrl(ctx: ToolContext): URL | undefined {
  const raw = ctx.opts.server ?? (ctx.env['REGCACHE_SERVER'] || undefined);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server: not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--server must be an https:// (or http://) URL');
  if (url.search !== '' || url.hash !== '') throw new UsageError('--server must not have a query or fragment');
  return url;
}

/** `path` (starting with '/') under the server's base URL, which may itself have a path. */
export function apiUrl(server: URL, path: string): URL {
  return new URL(server.href.replace(/\/+$/, '') + path);
}

/** Like serverUrl, but a usage error when none is given. */
export function requireServer(ctx: ToolContext): URL {
  const url = serverUrl(ctx);
  if (url === undefined) throw new UsageError('no server given: --server URL or REGCACHE_SERVER');
  return url;
}

/** The admin token (`--token`, else REGCACHE_ADMIN_TOKEN). */
export function adminToken(ctx: ToolContext): string {
  const token = ctx.opts.token ?? (ctx.env['REGCACHE_ADMIN_TOKEN'] || undefined);
  if (token === undefined) throw new UsageError('no admin token given: --token TOKEN or REGCACHE_ADMIN_TOKEN');
  return token;
}

/** Replaces every occurrence of a secret. */
export function mask(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/**
 * Runs a command body, turning its failures into messages and exit codes
 * (0 ok, 1 failed, 2 usage). The admin token and the values of
 * `secretOptions` (option keys) are masked in every message.
 */
export async function runTool<C extends ToolContext>(
  ctx: C,
  body: (ctx: C) => Promise<number>,
  secretOptions: readonly string[] = [],
): Promise<number> {
  const secrets = [ctx.opts.token, ...secretOptions.map((key) => ctx.opts[key]), ctx.env['REGCACHE_ADMIN_TOKEN']].filter((s): s is string => typeof s === 'string');
  const say = (text: string): void => void ctx.io.stderr.write(mask(`regcache ${ctx.args.command}: ${text}\n`, secrets));
  try {
    return await body(ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      say(`${err.message} (see regcache --help)`);
      return 2;
    }
    say(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

/** "1.5 MiB": sizes for people, not for parsing. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i] ?? ''}`;
}

/** "2024-05-01T10:00:00.123Z" → "2024-05-01 10:00:00Z": second precision is plenty. */
export const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}
