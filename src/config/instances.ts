/**
 * The `instances:` list, in cache-proxy's shape (its field names are a
 * contract): `name`, `enabled`, and exactly one mode block, whose shared
 * keys (`route.path`, `bind`, `display_url`, `expire_after`, `transport`)
 * the core reads and whose other keys the mode's own schema validates.
 * Modes that regcache does not have yet are a clear error naming the
 * instance; a disabled instance is skipped without validating its block.
 */
import { z } from 'zod';
import { baseUrl, duration, expiration, listen, mountPath } from './types.js';

/** What config needs of a registered mode (structural: config imports no mode). */
export interface ModeSchemaInfo {
  readonly name: string;
  readonly schema: z.ZodObject;
  readonly section: boolean;
}

/** cache-proxy's modes, named in errors when an instance uses one regcache does not have yet. */
const CACHE_PROXY_MODES = ['file', 'git', 'oci', 'npm', 'go', 'maven', 'cargo', 'pypi', 'flatpak', 'apk', 'deb', 'rpm', 'pacman'];

/** Default `expire_after`, as cache-proxy's. */
export const DEFAULT_EXPIRE_AFTER_MS = 720 * 3600 * 1000;

/** The keys every mode block shares. */
const commonShape = {
  route: z.strictObject({ path: mountPath }).optional(),
  bind: listen.optional(),
  display_url: baseUrl('display_url').optional(),
  expire_after: expiration.optional(),
  transport: z
    .strictObject({
      proxy: z.string().regex(/^https?:\/\/[^\s]+$/, { error: 'expected an http(s):// proxy URL' }).optional(),
      ua: z.string().min(1).max(200).optional(),
      timeout: duration.optional(),
      /** cache-proxy's finer timeouts: connect, response headers, silence within a body. */
      dial_timeout: duration.optional(),
      header_timeout: duration.optional(),
      idle_body_timeout: duration.optional(),
      /** A total deadline per upstream request. */
      max_request_duration: duration.optional(),
    })
    .optional(),
};

/** Outbound settings of one instance. */
export interface InstanceTransport {
  readonly proxy: string | undefined;
  readonly userAgent: string | undefined;
  /** `timeout`: connect, headers and body silence alike, unless the finer keys say otherwise. */
  readonly timeoutMs: number | undefined;
  readonly connectTimeoutMs: number | undefined;
  readonly headersTimeoutMs: number | undefined;
  readonly bodyTimeoutMs: number | undefined;
  readonly deadlineMs: number | undefined;
}

/** One configured, enabled mode instance, as the composition root sees it. */
export interface InstanceConfig {
  readonly name: string;
  readonly mode: string;
  /** Mount path on the main listener ("" = root). */
  readonly mount: string;
  /** A dedicated listener, when the block has `bind`. */
  readonly bind: string | undefined;
  readonly displayUrl: string | undefined;
  readonly expireAfterMs: number;
  readonly transport: InstanceTransport;
  /** The mode schema's output (the mode's own keys). */
  readonly settings: unknown;
}

/** Instance names: a metrics label, a status page section and a key segment (`file/<name>/…`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Splits a validated block into the shared keys and the mode's settings. */
export function toInstance(name: string, mode: string, block: Record<string, unknown>): InstanceConfig {
  const { route, bind, display_url: displayUrl, expire_after: expireAfter, transport, ...settings } = block as {
    route?: { path: string };
    bind?: string;
    display_url?: string;
    expire_after?: number;
    transport?: { proxy?: string; ua?: string; timeout?: number; dial_timeout?: number; header_timeout?: number; idle_body_timeout?: number; max_request_duration?: number };
  } & Record<string, unknown>;
  return {
    name,
    mode,
    mount: route?.path ?? '',
    bind,
    displayUrl,
    expireAfterMs: expireAfter ?? DEFAULT_EXPIRE_AFTER_MS,
    transport: {
      proxy: transport?.proxy,
      userAgent: transport?.ua,
      timeoutMs: transport?.timeout,
      connectTimeoutMs: transport?.dial_timeout ?? transport?.timeout,
      headersTimeoutMs: transport?.header_timeout ?? transport?.timeout,
      bodyTimeoutMs: transport?.idle_body_timeout ?? transport?.timeout,
      deadlineMs: transport?.max_request_duration,
    },
    settings,
  };
}

/** The `instances:` schema for the registered modes; output: the enabled instances. */
export function instancesSchema(modes: readonly ModeSchemaInfo[]) {
  const byName = new Map(modes.map((m) => [m.name, m]));
  const available = modes.map((m) => m.name).join(', ');
  const entry = z.unknown().transform((raw, ctx): InstanceConfig | undefined => {
    if (!isRecord(raw)) {
      ctx.addIssue({ code: 'custom', message: 'expected a mapping with name, enabled and one mode block' });
      return z.NEVER;
    }
    const { name, enabled, ...blocks } = raw;
    if (typeof name !== 'string' || !NAME.test(name)) {
      ctx.addIssue({ code: 'custom', message: 'expected a name of letters, digits, ., - and _ (at most 63, starting with a letter or digit)', path: ['name'] });
      return z.NEVER;
    }
    if (enabled !== undefined && typeof enabled !== 'boolean') {
      ctx.addIssue({ code: 'custom', message: 'expected true or false', path: ['enabled'] });
      return z.NEVER;
    }
    const keys = Object.keys(blocks);
    const modeKeys = keys.filter((k) => byName.has(k) || CACHE_PROXY_MODES.includes(k));
    for (const k of keys.filter((k) => !modeKeys.includes(k))) ctx.addIssue({ code: 'custom', message: `unknown key (instance "${name}")`, path: [k] });
    if (modeKeys.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `instance "${name}" needs exactly one mode block, found ${modeKeys.length === 0 ? 'none' : modeKeys.join(', ')} (available: ${available})` });
      return z.NEVER;
    }
    const modeName = modeKeys[0] ?? '';
    if (enabled === false) return undefined;
    const mode = byName.get(modeName);
    if (!mode) {
      ctx.addIssue({ code: 'custom', message: `instance "${name}": mode "${modeName}" is not available in this regcache (available: ${available}); set enabled: false to keep the block`, path: [modeName] });
      return z.NEVER;
    }
    if (mode.section) {
      ctx.addIssue({ code: 'custom', message: `instance "${name}": ${modeName} is configured by the top-level ${modeName}: section, not as an instance`, path: [modeName] });
      return z.NEVER;
    }
    const parsed = mode.schema.extend(commonShape).safeParse(blocks[modeName] ?? {}, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [modeName, ...issue.path] });
      return z.NEVER;
    }
    const inst = toInstance(name, modeName, parsed.data);
    if (inst.mount === '' && inst.bind === undefined) {
      ctx.addIssue({ code: 'custom', message: `instance "${name}" needs route.path (a mount like /files) or bind (a listener of its own)`, path: [modeName] });
      return z.NEVER;
    }
    return inst;
  });
  return z
    .array(entry)
    .prefault([])
    .transform((list, ctx) => {
      const enabled = list.filter((i): i is InstanceConfig => i !== undefined);
      const seen = new Set<string>();
      for (const i of enabled) {
        if (seen.has(i.name)) ctx.addIssue({ code: 'custom', message: `duplicate instance name "${i.name}"` });
        seen.add(i.name);
      }
      return enabled;
    });
}
