/**
 * The admin API (only when `admin.token` is configured; bearer auth):
 *   DELETE /v1/mirror/:host[/:ns[/:type[/:version]]][?only=metadata]
 *   DELETE /v1/modules/:host[/:ns[/:name[/:system[/:version]]]][?only=metadata]
 *   GET    /admin/cache   GET /admin/stats
 *   POST   /admin/warm    GET /admin/warm/:id
 *   POST   /admin/gc[?dryRun=true]
 * Every admin request is logged with its action, never with the token.
 */
import type { IncomingMessage } from 'node:http';
import type { Cache } from '../core/cache.js';
import { RegcacheError } from '../core/errors.js';
import { hostKey, parseHost, parseName, parseVersion } from '../mirrors/terraform/names.js';
import { parseLockFile, validateWarmItems, type WarmItem } from '../mirrors/terraform/warm.js';
import type { Jobs, JobProgress } from '../ops/jobs.js';
import { listPrefix, type RetentionReport } from '../ops/retention.js';
import type { Stats } from '../ops/stats.js';
import type { UsageTracker } from '../ops/usage.js';
import type { Store } from '../core/store.js';
import { bearerCheck } from './admin-auth.js';
import { describeCache } from './admin-listing.js';
import type { Endpoint, EndpointContext, EndpointResult } from './endpoint.js';
import { sendBody } from './respond.js';

/** What the admin API works with. */
export interface AdminDeps {
  token: string;
  cache: Cache;
  store: Store;
  stats: Stats;
  usage: UsageTracker;
  jobs: Jobs;
  warm: (items: WarmItem[], progress: JobProgress) => Promise<void>;
  gc: (dryRun: boolean) => Promise<RetentionReport>;
}

const MAX_BODY = 1024 * 1024;
const METADATA_KEY = /\/(versions|download(\/[a-z0-9]+_[a-z0-9]+)?)$|^tf\/discovery\//;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_BODY) throw new RegcacheError('ERR_BAD_REQUEST', 'request body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(ctx: EndpointContext, status: number, value: unknown, log: Record<string, unknown>): EndpointResult {
  return { bytes: sendBody(ctx.req, ctx.res, status, 'application/json', Buffer.from(JSON.stringify(value)), { 'cache-control': 'no-store' }), log };
}

/** Maps a purge path to the cache key prefix it covers. */
function purgePrefix(segments: readonly string[]): { prefix: string; target: string } {
  const [, kind, host, ...rest] = segments;
  const maxRest = kind === 'mirror' ? 3 : 4;
  if (host === undefined || rest.length > maxRest) throw new RegcacheError('ERR_NOT_FOUND');
  const h = parseHost(host);
  const names = rest.map((r, i) => (i === maxRest - 1 ? parseVersion(r) : parseName('name', r)));
  const root = kind === 'mirror' ? 'tf/providers' : 'tf/modules';
  return { prefix: [root, hostKey(h), ...names].join('/') + '/', target: [h, ...names].join('/') };
}

/** Creates the admin endpoints. */
export function createAdminEndpoints(deps: AdminDeps): Endpoint[] {
  const authorize = bearerCheck(deps.token);
  const guarded = (name: string, match: Endpoint['match'], handle: Endpoint['handle']): Endpoint => ({
    name,
    match,
    async handle(ctx) {
      authorize(ctx.req);
      return handle(ctx);
    },
  });

  const purge = guarded(
    'admin-purge',
    (m, s) => m === 'DELETE' && s[0] === 'v1' && (s[1] === 'mirror' || s[1] === 'modules') && s.length >= 3,
    async (ctx) => {
      const { prefix, target } = purgePrefix(ctx.segments);
      const onlyMetadata = ctx.query.get('only') === 'metadata';
      const objects = await listPrefix(deps.store, prefix);
      if (ctx.segments.length === 3 && ctx.segments[1] === 'mirror') objects.push(...(await listPrefix(deps.store, `tf/discovery/${prefix.split('/')[2] ?? ''}`)));
      const removed: Array<{ key: string; size: number }> = [];
      for (const o of objects) {
        if (onlyMetadata && !METADATA_KEY.test(o.key)) continue;
        if (o.key.endsWith('/private')) continue;
        if (await deps.cache.invalidate(o.key)) removed.push({ key: o.key, size: o.meta.size });
      }
      const bytes = removed.reduce((n, r) => n + r.size, 0);
      return json(ctx, 200, { target, onlyMetadata, removed: removed.length, bytes, keys: removed.map((r) => r.key) }, { action: 'purge', target, onlyMetadata, removed: removed.length });
    },
  );

  const get = (m: string): boolean => m === 'GET' || m === 'HEAD';
  return [
    purge,
    guarded('admin-stats', (m, s) => get(m) && s.length === 2 && s[0] === 'admin' && s[1] === 'stats', async (ctx) => {
      const usage = deps.usage.current().scannedAt === 0 ? (await deps.usage.scan(), deps.usage.current()) : deps.usage.current();
      return json(ctx, 200, { ...(await deps.stats.snapshot()), store: { kind: deps.store.kind, ...usage, scannedAt: new Date(usage.scannedAt).toISOString() } }, { action: 'stats' });
    }),
    guarded('admin-cache', (m, s) => get(m) && s.length === 2 && s[0] === 'admin' && s[1] === 'cache', async (ctx) => {
      return json(ctx, 200, describeCache(await deps.usage.scan()), { action: 'list' });
    }),
    guarded('admin-warm', (m, s) => m === 'POST' && s.length === 2 && s[0] === 'admin' && s[1] === 'warm', async (ctx) => {
      const text = await readBody(ctx.req);
      let items: WarmItem[];
      const platforms = ctx.query.getAll('platform');
      if (/^\s*[{[]/.test(text)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new RegcacheError('ERR_BAD_REQUEST', 'body is not valid JSON');
        }
        const list = Array.isArray(parsed) ? parsed : (parsed as { providers?: unknown }).providers;
        if (!Array.isArray(list)) throw new RegcacheError('ERR_BAD_REQUEST', 'expected {"providers":[{"source","version","platforms"}]}');
        items = list.map((x: unknown) => {
          const o = x as { source?: unknown; version?: unknown; platforms?: unknown };
          if (typeof o.source !== 'string') throw new RegcacheError('ERR_BAD_REQUEST', 'each provider needs a "source"');
          const plats = Array.isArray(o.platforms) ? o.platforms.filter((p): p is string => typeof p === 'string') : platforms;
          return { source: o.source, version: typeof o.version === 'string' ? o.version : '>= 0.0.0', platforms: plats };
        });
      } else {
        items = parseLockFile(text).map((i) => ({ ...i, platforms }));
      }
      validateWarmItems(items);
      const job = deps.jobs.start('warm', (p) => deps.warm(items, p));
      return json(ctx, 202, job, { action: 'warm', providers: items.length, job: job.id });
    }),
    guarded('admin-warm-status', (m, s) => get(m) && s.length === 3 && s[0] === 'admin' && s[1] === 'warm', (ctx) => {
      const job = deps.jobs.get(ctx.segments[2] ?? '');
      if (!job) throw new RegcacheError('ERR_NOT_FOUND', 'no such job');
      return Promise.resolve(json(ctx, 200, job, { action: 'warm-status' }));
    }),
    guarded('admin-gc', (m, s) => m === 'POST' && s.length === 2 && s[0] === 'admin' && s[1] === 'gc', async (ctx) => {
      const dryRun = ctx.query.get('dryRun') === 'true' || ctx.query.get('dryRun') === '1';
      const report = await deps.gc(dryRun);
      return json(ctx, 200, report, { action: 'gc', dryRun, removed: report.removed.length });
    }),
  ];
}
