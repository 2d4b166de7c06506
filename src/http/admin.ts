/**
 * The admin API (only when `admin.token` is configured; bearer auth):
 *   DELETE /admin/purge/:instance[/:target…][?only=metadata]
 *   DELETE /<alias>/… (a mode's older purge paths: terraform's /v1/mirror/…, /v1/modules/…)
 *   GET    /admin/cache   GET /admin/stats
 *   POST   /admin/warm[?instance=NAME]    GET /admin/warm/:id
 *   POST   /admin/gc[?dryRun=true]
 * Purge, listing and warm ask the instance's mode what its keys are; what
 * an object is comes from its recorded class. Markers are never purged.
 * Every admin request is logged with its action, never with the token.
 */
import type { IncomingMessage } from 'node:http';
import type { Cache } from '../core/cache.js';
import { RegcacheError } from '../core/errors.js';
import type { ObjectClass, ObjectMeta } from '../core/store.js';
import type { MountedInstance } from '../mirrors/mode.js';
import type { Jobs } from '../ops/jobs.js';
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
  instances: readonly MountedInstance[];
  classify: (key: string, meta: ObjectMeta) => ObjectClass;
  gc: (dryRun: boolean) => Promise<RetentionReport>;
}

const MAX_BODY = 1024 * 1024;

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

/** Which instance and target a purge path names: /admin/purge/NAME/… or one of a mode's aliases. */
function purgeRequest(instances: readonly MountedInstance[], segments: readonly string[]): { inst: MountedInstance; rest: string[] } | undefined {
  if (segments[0] === 'admin' && segments[1] === 'purge') {
    const inst = instances.find((i) => i.name === segments[2]);
    if (!inst) throw new RegcacheError('ERR_NOT_FOUND', 'no such instance');
    return { inst, rest: segments.slice(3) };
  }
  for (const inst of instances) {
    for (const a of inst.instance.purgeAliases ?? []) {
      if (segments.length > a.path.length && a.path.every((p, i) => segments[i] === p)) return { inst, rest: [...a.as, ...segments.slice(a.path.length)] };
    }
  }
  return undefined;
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
    (m, s) => m === 'DELETE' && ((s[0] === 'admin' && s[1] === 'purge' && s.length >= 3) || deps.instances.some((i) => (i.instance.purgeAliases ?? []).some((a) => s.length > a.path.length && a.path.every((p, n) => s[n] === p)))),
    async (ctx) => {
      const req = purgeRequest(deps.instances, ctx.segments);
      if (!req) throw new RegcacheError('ERR_NOT_FOUND');
      const { prefixes, keys = [], target } = req.inst.instance.purgeTarget(req.rest);
      const ownedBy = (p: string): boolean => req.inst.instance.keyPrefixes.some((k) => p.startsWith(k));
      const onlyMetadata = ctx.query.get('only') === 'metadata';
      const listed = (await Promise.all(prefixes.filter(ownedBy).map((p) => listPrefix(deps.store, p)))).flat();
      const exact = await Promise.all(keys.filter((k) => ownedBy(k) && !listed.some((o) => o.key === k)).map(async (key) => ({ key, meta: await deps.store.stat(key) })));
      const objects = [...listed, ...exact.filter((o): o is { key: string; meta: NonNullable<typeof o.meta> } => o.meta !== undefined)];
      const removed: Array<{ key: string; size: number }> = [];
      for (const o of objects) {
        const cls = deps.classify(o.key, o.meta);
        if (cls === 'marker' || (onlyMetadata && cls !== 'metadata')) continue;
        if (await deps.cache.invalidate(o.key)) removed.push({ key: o.key, size: o.meta.size });
      }
      const bytes = removed.reduce((n, r) => n + r.size, 0);
      const log = { action: 'purge', instance: req.inst.name, target, onlyMetadata, removed: removed.length };
      return json(ctx, 200, { instance: req.inst.name, target, onlyMetadata, removed: removed.length, bytes, keys: removed.map((r) => r.key) }, log);
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
      return json(ctx, 200, describeCache(deps.instances, await deps.usage.scan()), { action: 'list' });
    }),
    guarded('admin-warm', (m, s) => m === 'POST' && s.length === 2 && s[0] === 'admin' && s[1] === 'warm', async (ctx) => {
      const name = ctx.query.get('instance');
      const inst = deps.instances.find((i) => i.instance.warm !== undefined && (name === null || i.name === name));
      if (!inst?.instance.warm) throw new RegcacheError('ERR_NOT_FOUND', name === null ? 'no instance can be warmed' : 'no such instance, or it cannot be warmed');
      const plan = inst.instance.warm(await readBody(ctx.req), ctx.query);
      const job = deps.jobs.start('warm', (p) => plan.run(p));
      return json(ctx, 202, job, { action: 'warm', instance: inst.name, items: plan.items, job: job.id });
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
