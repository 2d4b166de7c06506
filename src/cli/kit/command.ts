/**
 * The contract of a command a mode adds to `regcache` (`regcache lock`,
 * `regcache warm` for Terraform). A mode lists its commands in
 * `ModeDefinition.commands`; the command line parses their options,
 * rejects options a command does not declare, prints their help and runs
 * them. A command is client code: it talks to a running regcache over
 * HTTP or works on local files, through this kit (tool-io, http-client)
 * only, never through the server's modules.
 */
import type { ToolContext } from './tool-io.js';

/** Options every client command may accept, by their ToolOptions key. */
export type SharedOption = 'server' | 'token' | 'ca' | 'json';

/** An option a command declares. */
export interface CommandOption {
  /** The flag without dashes (`platform` for --platform). */
  readonly flag: string;
  /** Its key in ToolOptions (`platforms`). */
  readonly key: string;
  readonly type: 'string' | 'boolean';
  /** Repeatable: the values arrive as a list in the order given. */
  readonly multiple?: boolean;
  /** A credential: masked in every message the command prints. */
  readonly secret?: boolean;
}

/** A command a mode adds. */
export interface ClientCommand {
  /** The word after `regcache`; unique among all commands. */
  readonly name: string;
  /**
   * Its entry in `regcache help`: the first line is the summary, later
   * lines (synopsis, its own options) are printed indented under it.
   */
  readonly help: string;
  /** Shared client options it accepts. */
  readonly shared: readonly SharedOption[];
  /** Its own options. A flag declared by several commands must have the same key and type in each. */
  readonly options: readonly CommandOption[];
  /** Loads the body when the command runs (the mode's CLI code is never loaded otherwise). */
  load(): Promise<(ctx: ToolContext) => Promise<number>>;
}
