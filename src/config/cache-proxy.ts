/**
 * d7z cache-proxy's configuration format, accepted as it is: its top-level
 * keys are translated into regcache's (`server.bind` → `server.listen`
 * served as plain HTTP, `server.backend` → `storage.path`, …) and its
 * `instances:` list is already regcache's. Keys regcache has no use for are
 * reported (by `regcache validate` and at start-up), never silently dropped.
 */

type RawObject = Record<string, unknown>;

/** cache-proxy's default listener. */
export const CACHE_PROXY_DEFAULT_BIND = '127.0.0.1:18080';

/** Keys only cache-proxy files have; any of them marks a file as cache-proxy format. */
const MARKERS: readonly (readonly string[])[] = [
  ['server', 'bind'],
  ['server', 'backend'],
  ['server', 'public_url'],
  ['server', 'status'],
  ['storage', 'gc'],
  ['storage', 'cleanup'],
  ['storage', 'orphan_policy'],
  ['storage', 'download'],
];

function isObject(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function get(raw: RawObject, path: readonly string[]): unknown {
  let node: unknown = raw;
  for (const p of path) node = isObject(node) ? node[p] : undefined;
  return node;
}

/** Keys only regcache's own format has. */
const REGCACHE_ONLY: readonly (readonly string[])[] = [
  ['server', 'listen'],
  ['server', 'tls'],
  ['storage', 'path'],
  ['storage', 'type'],
  ['terraform'],
  ['upstream'],
  ['coordination'],
  ['admin'],
  ['log'],
];

/**
 * Whether a parsed YAML file is in cache-proxy's format: it has a key only
 * cache-proxy files have, or it lists `instances:` and has none of
 * regcache's own keys (a cache-proxy file may be just `metrics:` and
 * `instances:`).
 */
export function isCacheProxyFormat(raw: RawObject): boolean {
  if (MARKERS.some((path) => get(raw, path) !== undefined)) return true;
  return raw['instances'] !== undefined && !REGCACHE_ONLY.some((path) => get(raw, path) !== undefined);
}

/** Transport keys of cache-proxy instances that regcache accepts and does not use. */
const IGNORED_TRANSPORT = ['health', 'max_idle_conns', 'max_conns_per_host'];

/**
 * Takes cache-proxy's transport keys that have no effect here out of every
 * instance block (in either format) and says so, so a file written for
 * cache-proxy loads as it is. Mutates `raw`.
 */
export function stripIgnoredTransport(raw: RawObject): string[] {
  const ignored: string[] = [];
  const list = raw['instances'];
  if (!Array.isArray(list)) return ignored;
  list.forEach((inst: unknown, i) => {
    if (!isObject(inst)) return;
    for (const block of Object.values(inst)) {
      const transport = isObject(block) ? block['transport'] : undefined;
      if (!isObject(transport)) continue;
      for (const k of IGNORED_TRANSPORT) {
        if (transport[k] === undefined) continue;
        delete transport[k];
        ignored.push(`instances[${i}].transport.${k}: regcache keeps one connection pool per upstream origin and no active health probes`);
      }
    }
  });
  return ignored;
}

/** A translated file and the keys that have no effect in regcache. */
export interface Translated {
  raw: RawObject;
  /** "key: why" lines, for `validate` and the start-up log. */
  ignored: string[];
}

/**
 * Translates a cache-proxy file into regcache's format. Keys with a
 * regcache equivalent move there; known keys without one are listed in
 * `ignored`; unknown keys are left in place so validation reports them.
 */
export function translateCacheProxy(file: RawObject): Translated {
  const ignored: string[] = [];
  const out: RawObject = {};
  for (const [k, v] of Object.entries(file)) if (k !== 'server' && k !== 'storage') out[k] = v;

  const server = isObject(file['server']) ? { ...file['server'] } : {};
  const srv: RawObject = { tls: false, listen: server['bind'] ?? CACHE_PROXY_DEFAULT_BIND };
  if (server['public_url'] !== undefined) srv['publicUrl'] = server['public_url'];
  const storage: RawObject = {};
  if (server['backend'] !== undefined) storage['path'] = server['backend'];
  if (server['status'] !== undefined) ignored.push('server.status: regcache keeps no disk or event history; see /metrics and the status page');
  for (const [k, v] of Object.entries(server)) if (!['bind', 'backend', 'public_url', 'status'].includes(k)) srv[k] = v;
  out['server'] = srv;

  const st = isObject(file['storage']) ? { ...file['storage'] } : {};
  const gc = st['gc'];
  if (gc !== undefined) ignored.push('storage.gc: regcache stores each object once (no shared blobs to collect); retention runs every storage.cleanup.interval');
  const cleanup = isObject(st['cleanup']) ? st['cleanup'] : {};
  if (cleanup['interval'] !== undefined) storage['cleanupInterval'] = cleanup['interval'];
  if (cleanup['enabled'] === false) storage['retentionMode'] = 'off';
  else if (cleanup['dry_run'] === true) storage['retentionMode'] = 'report';
  for (const k of ['batch_size', 'workers']) {
    if (cleanup[k] !== undefined) ignored.push(`storage.cleanup.${k}: regcache removes expired objects in one pass per interval (use regcache gc --dry-run to preview)`);
  }
  for (const k of Object.keys(cleanup)) if (!['interval', 'enabled', 'dry_run', 'batch_size', 'workers'].includes(k)) storage[`cleanup.${k}`] = cleanup[k];
  if (cleanup['enabled'] !== undefined && typeof cleanup['enabled'] !== 'boolean') storage['cleanup.enabled'] = cleanup['enabled'];
  if (cleanup['dry_run'] !== undefined && typeof cleanup['dry_run'] !== 'boolean') storage['cleanup.dry_run'] = cleanup['dry_run'];
  if (st['orphan_policy'] !== undefined) ignored.push('storage.orphan_policy: regcache commits objects atomically and leaves no orphans to clean');
  if (st['download'] !== undefined) ignored.push('storage.download: concurrent downloads are one per object (single-flight); upstream.parallelism bounds fan-out');
  for (const [k, v] of Object.entries(st)) if (!['gc', 'cleanup', 'orphan_policy', 'download'].includes(k)) storage[k] = v;
  if (Object.keys(storage).length > 0) out['storage'] = storage;
  return { raw: out, ignored };
}
