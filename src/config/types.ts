/**
 * Value types shared by the core configuration and every mode's settings
 * schema (durations, sizes, URLs, host names, listen addresses, cache-proxy's
 * policies and doublestar globs), so a mode
 * validates its block with the same rules and messages as the core.
 */
import { isIPv6 } from 'node:net';
import picomatch from 'picomatch';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseSize } from './size.js';

const HOST_LABELS = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const PORT = /^\d{1,5}$/;

function validPort(text: string, min: number): boolean {
  return PORT.test(text) && Number(text) >= min && Number(text) <= 65535;
}

/**
 * Splits a validated listen address ("127.0.0.1:8443", "[::1]:8443") into
 * what net.Server#listen wants; brackets are removed from IPv6 hosts.
 * Returns undefined when the text is not a host:port pair.
 */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const rawHost = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!validPort(port, 0)) return undefined;
  if (rawHost.startsWith('[') && rawHost.endsWith(']')) {
    const host = rawHost.slice(1, -1);
    return isIPv6(host) ? { host, port: Number(port) } : undefined;
  }
  return HOST_LABELS.test(rawHost.toLowerCase()) ? { host: rawHost, port: Number(port) } : undefined;
}

/** Explains why an upstream host is unacceptable, or returns undefined when it is fine. */
export function upstreamHostProblem(host: string): string | undefined {
  if (host.length === 0) return 'must not be empty';
  if (/\s/.test(host)) return 'must not contain whitespace';
  if (host.includes('://')) return 'must be a bare hostname without a scheme (put URLs in "url")';
  if (host.includes('@')) return 'must not contain user-info';
  if (host.includes('/')) return 'must be a bare hostname without a path';
  if (/[^\x20-\x7e]/.test(host)) return 'must be ASCII (use the punycode xn-- form)';
  const colon = host.indexOf(':');
  const name = colon === -1 ? host : host.slice(0, colon);
  if (colon !== -1 && !validPort(host.slice(colon + 1), 1)) return 'has an invalid port';
  if (!HOST_LABELS.test(name) || name.length > 253) return 'is not a valid hostname';
  return undefined;
}

/** Validates and normalises an http(s) base URL: no query, fragment or user-info; one trailing slash stripped. */
export function baseUrl(label: string) {
  return z.string().transform((text, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    let problem: string | undefined;
    if (url === undefined) problem = `invalid ${label} ${JSON.stringify(text)}`;
    else if (url.protocol !== 'https:' && url.protocol !== 'http:') problem = `${label} must use http or https`;
    else if (text.includes('?') || text.includes('#')) problem = `${label} must not have a query or fragment`;
    else if (url.username !== '' || url.password !== '') problem = `${label} must not contain user-info`;
    if (problem !== undefined || url === undefined) {
      ctx.addIssue({ code: 'custom', message: problem ?? 'invalid URL', input: text });
      return z.NEVER;
    }
    return url.href.endsWith('/') ? url.href.slice(0, -1) : url.href;
  });
}

/** Runs a throwing parser and turns its failure into undefined, for use inside transforms. */
export function attempt<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** A duration string ("10m") to milliseconds; the number 0 is accepted because YAML reads `0` as a number. */
export const duration = z
  .union([z.string(), z.number()], { error: 'expected a duration like "10m"' })
  .transform((value, ctx) => {
    const ms = typeof value === 'string' ? attempt(() => parseDuration(value)) : value === 0 ? 0 : undefined;
    if (ms !== undefined) return ms;
    const hint = typeof value === 'number' ? ` (add a unit, e.g. "${value}s")` : '';
    ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(value)}${hint}`, input: value });
    return z.NEVER;
  });

/** A byte size ("8MiB") or plain non-negative integer number of bytes. */
export const size = z
  .union([z.string(), z.number()], { error: 'expected a size like "8MiB"' })
  .transform((value, ctx) => {
    const bytes =
      typeof value === 'string'
        ? attempt(() => parseSize(value))
        : Number.isSafeInteger(value) && value >= 0
          ? value
          : undefined;
    if (bytes !== undefined) return bytes;
    ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  });

export const listen = z.string().refine((text) => parseListenAddress(text) !== undefined, {
  error: (issue) => `invalid listen address ${JSON.stringify(issue.input)} (expected host:port, IPv6 as [::1]:8443)`,
});

export const tls = z.union(
  [
    z.literal(false),
    z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }),
  ],
  { error: 'expected {cert, key} file paths, or false for plain HTTP' },
);

/** cache-proxy's `freshness`: a duration, or `forever` (Infinity). */
export const freshness = z.union([z.literal('forever').transform(() => Number.POSITIVE_INFINITY), duration], { error: 'expected a duration like "5m" or "forever"' });

/** cache-proxy's `expiration`: a duration, or `never` (Infinity). */
export const expiration = z.union([z.literal('never').transform(() => Number.POSITIVE_INFINITY), duration], { error: 'expected a duration like "720h" or "never"' });

/** cache-proxy's cache policy: streamed through, fetched once, or kept and revalidated. */
export const cachePolicy = z.enum(['bypass', 'immutable', 'revalidate'], { error: 'expected bypass, immutable or revalidate' });

/** cache-proxy's busy policy: what a request gets while another one downloads or revalidates the object. */
export const busyPolicy = z.enum(['bypass', 'stale'], { error: 'expected bypass or stale' });

/** Options that make picomatch read patterns as doublestar (cache-proxy's glob library) does. */
export const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true, strictBrackets: true, windows: false };

/** A `rules[].match` pattern (doublestar syntax), checked to compile. */
export const globPattern = z
  .string()
  .trim()
  .min(1, { error: 'match is empty' })
  .max(512)
  .superRefine((pattern, ctx) => {
    try {
      picomatch.makeRe(pattern, GLOB_OPTIONS);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid match ${JSON.stringify(pattern)}: ${(err as Error).message}`, input: pattern });
    }
  });

/** A URL path a mode is mounted under ("/files"): one or more safe segments, no trailing slash needed. */
export const mountPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*\/?$/, { error: 'expected a path like "/files"' })
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), { error: 'must not contain . or .. segments' })
  .transform((p) => p.replace(/\/+$/, ''));
