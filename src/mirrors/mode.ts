/**
 * The mode contract: everything an ecosystem (terraform, file, npm …)
 * brings to regcache. A mode is one folder under src/mirrors/ exporting a
 * ModeDefinition, plus one line in src/mirrors/modes.ts. The composition
 * root, config loading, the admin API, the status page, `regcache ls` /
 * `purge`, retention and metrics loop over the registered modes and name
 * none of them.
 *
 * Invariants a mode keeps:
 * - Every store key it creates starts with one of its `keyPrefixes`, is
 *   built from validated request fields (core/keys.ts encodes arbitrary
 *   upstream names) and passes `assertKey`.
 * - It contacts upstream only through `ctx.client`, which applies the
 *   outbound policy to every hop; it never forwards a client's credential
 *   to another origin than the one it was meant for.
 * - It never knows which store, topology or process it runs on: under
 *   `server.workers` a route may be verified with bytes another process
 *   downloaded (`verify` without `fetch`), and replicas may share the store.
 * - An answer that fails a consistency or integrity check is never stored.
 */
import type { z } from 'zod';
import type { ClientCommand } from '../cli/kit/command.js';
import type { Cache } from '../core/cache.js';
import type { ListedObject, ObjectClass, Store } from '../core/store.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { Mirror } from './mirror.js';

/** Log lines a mode may write (the process logger, bound to the instance). */
export interface ModeLog {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  debug(fields: Record<string, unknown>, msg: string): void;
}

/** Progress reporting of a long-running admin job (warm). */
export interface ModeJobProgress {
  addTotal(n: number): void;
  succeeded(): void;
  failedOne(message: string): void;
}

/** A validated warm request: how many items, and the job body the admin API runs. */
export interface WarmPlan {
  items: number;
  run(progress: ModeJobProgress): Promise<void>;
}

/** What regcache hands a mode when it creates an instance. */
export interface ModeContext {
  /** Instance name: metrics label, status page section, admin purge path. */
  readonly instance: string;
  readonly cache: Cache;
  /** Direct store reads (derived objects such as h1 hashes); writes go through the cache. */
  readonly store: Store;
  /** Outbound HTTP for this instance (its transport settings applied). */
  readonly client: UpstreamClient;
  readonly log: ModeLog;
  /** The server's fixed public URL, when configured (else derived per request). */
  readonly publicUrl: string | undefined;
  /** The data directory (storage.path), for files a mode keeps besides the cache (a signing key). */
  readonly dataDir: string;
  /** The key URLs are signed with (private content handed to clients that send no credential). */
  readonly urlSigningKey: string | undefined;
  /** Process-wide outbound limits. */
  readonly limits: { readonly maxMetadataBytes: number; readonly parallelism: number };
  /** The path this instance is mounted under on its listener ("" at the root, "/files"). */
  readonly mount: string;
  /** The instance's `expire_after` (ms; Infinity = never), for routes' expireAfterMs. */
  readonly expireAfterMs: number;
}

/** One snippet of client configuration, shown with a copy button. */
export interface ClientSnippet {
  /** What it configures ("~/.terraformrc", "curl"). */
  label: string;
  text: string;
  /** Element id suffix on the page (`snippet-<id>`), unique among the instance's snippets. */
  id: string;
  /** A muted line under the label. */
  note?: string;
}

/** A mode instance's section of the status page. */
export interface StatusSection {
  title: string;
  /** Where clients point (this server's URL plus the mount). */
  url: string;
  /** Hosts this instance fetches from. */
  upstreams: readonly string[];
  snippets: readonly ClientSnippet[];
}

/** One cached item in a listing (a provider version, a file). */
export interface ListedItem {
  /** What it is, in the ecosystem's words ("provider", "module", "file"). */
  kind: string;
  name: string;
  version: string;
  /** Variants within the version (platforms), empty when none. */
  variants: string[];
  size: number;
  storedAt: number;
  lastAccess: number;
  /** Set for content of a private scope: never shown on an unauthenticated page. */
  private?: boolean;
}

/** A running mode instance. */
export interface ModeInstance {
  /** Request handlers; each owns a path prefix of this instance's listener. */
  readonly mirrors: readonly Mirror[];
  /** Store key prefixes this instance owns ("file/downloads/"): purge, listing and retention scope. */
  readonly keyPrefixes: readonly string[];
  /** Hosts this instance contacts, as configured (status page, start-up log). */
  readonly upstreamHosts: readonly string[];
  /**
   * Maps an admin purge target (path segments after the instance name, or
   * after one of `purgeAliases`) to what it covers: key prefixes (a
   * directory, a provider) and exact keys (one file, whose key is not a
   * prefix: `a.zip` would also catch `a.zip.sha256`). Both must lie under
   * `keyPrefixes`. Throws ERR_NOT_FOUND / ERR_BAD_REQUEST for targets it
   * does not know.
   */
  purgeTarget(segments: readonly string[]): { prefixes: string[]; keys?: string[]; target: string };
  /**
   * Older admin paths that purge this instance: `DELETE /<path>/<rest>`
   * purges `purgeTarget([...as, ...rest])` (terraform: /v1/mirror/HOST → providers/HOST).
   */
  readonly purgeAliases?: readonly { readonly path: readonly string[]; readonly as: readonly string[] }[];
  /** Turns stored objects under `keyPrefixes` into listed items (artifacts only; metadata is counted). */
  describe(objects: readonly ListedObject[]): ListedItem[];
  /**
   * This instance's status page section for clients reaching regcache at
   * `baseUrl` (for an instance with a `bind` listener of its own: the page's
   * host with that listener's port).
   */
  status(baseUrl: string): StatusSection;
  /** Optional `POST /admin/warm`: validates the posted body (throws ERR_BAD_REQUEST) and plans the job. */
  warm?(body: string, query: URLSearchParams): WarmPlan;
  /** Releases what the instance holds (timers, git processes) at shutdown. */
  close?(): Promise<void>;
}

/** A registered mode. `T` is its settings schema; `create` gets that schema's output. */
export interface ModeDefinition<T extends z.ZodObject> {
  /** The mode's key in an instance block (`file:`), and its name in docs and logs. */
  readonly name: string;
  /** One line for docs and `regcache validate`. */
  readonly summary: string;
  /**
   * Validates one instance block, field names in cache-proxy's snake_case
   * style. The keys every mode shares (`route`, `bind`, `display_url`,
   * `expire_after`, `transport`) are added and taken out by the core
   * (see InstanceCommon); a mode's schema names only its own.
   */
  readonly schema: T;
  /**
   * When set, the mode is also configured by a top-level section of its
   * name and runs as an instance of that name even when the section is
   * absent (terraform, for configs written before `instances:`).
   */
  readonly section?: boolean;
  /** The class of an object stored before classes were recorded (undefined: not this mode's key). */
  legacyClass?(key: string): ObjectClass | undefined;
  /**
   * The upstream base URLs the operator configured in these settings: the
   * outbound policy treats their origins as configured (64 KiB hold-back,
   * http when written as http://, any address) rather than merely tolerated.
   */
  upstreamUrls?(settings: z.output<T>): string[];
  /**
   * Commands the mode adds to `regcache` (terraform: `lock`, `warm`). Their
   * bodies live in the mode's `cli/` folder, are loaded only when run and
   * use only the client kit (src/cli/kit/); see docs/adding-a-mode.md.
   */
  readonly commands?: readonly ClientCommand[];
  create(ctx: ModeContext, settings: z.output<T>): Promise<ModeInstance>;
}

/** A definition with its settings type erased, as the registry holds it. */
export interface RegisteredMode {
  readonly name: string;
  readonly summary: string;
  readonly schema: z.ZodObject;
  readonly section: boolean;
  legacyClass(key: string): ObjectClass | undefined;
  upstreamUrls(settings: unknown): string[];
  readonly commands: readonly ClientCommand[];
  create(ctx: ModeContext, settings: unknown): Promise<ModeInstance>;
}

/**
 * Registers a mode. `settings` given to `create` is always the output of
 * this same definition's schema (config validation parsed it), so the cast
 * inside is sound by construction.
 */
export function defineMode<T extends z.ZodObject>(def: ModeDefinition<T>): RegisteredMode {
  return {
    name: def.name,
    summary: def.summary,
    schema: def.schema,
    section: def.section ?? false,
    legacyClass: (key) => def.legacyClass?.(key),
    upstreamUrls: (settings) => def.upstreamUrls?.(settings as z.output<T>) ?? [],
    commands: def.commands ?? [],
    create: (ctx, settings) => def.create(ctx, settings as z.output<T>),
  };
}

/** A started instance, as the server, admin API, status page and `regcache ls` see it. */
export interface MountedInstance {
  readonly name: string;
  readonly mode: string;
  /** Mount path on its listener ("" = root). */
  readonly mount: string;
  /** Dedicated listener, if the instance has one. */
  readonly bind: string | undefined;
  readonly instance: ModeInstance;
  /** The instance's mirrors with the mount path prepended to their prefixes. */
  readonly mirrors: readonly Mirror[];
}
