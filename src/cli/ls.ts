/**
 * `regcache ls`: what the cache holds, as a table (or the JSON of GET
 * /admin/cache with --json), from a running server or straight from a store.
 */
import semver from 'semver';
import { describeCache, type CacheListing } from '../http/admin-listing.js';
import { createUsageTracker } from '../ops/usage.js';
import { offlineInstances, resolveTarget } from './direct-store.js';
import { createHttpClient } from './kit/http-client.js';
import { adminToken, apiUrl, CommandError, humanSize, table, UsageError, when } from './kit/tool-io.js';
import type { CliToolContext } from './args.js';

const byVersion = (a: string, b: string): number => (semver.valid(a) && semver.valid(b) ? semver.compare(a, b) : a.localeCompare(b));

function isListing(v: unknown): v is CacheListing {
  const l = v as Partial<CacheListing> | null;
  return Array.isArray(l?.instances) && typeof l.objects === 'number' && typeof l.bytes === 'number';
}

/** The table text for a listing: one row per cached item (a provider version, a module version, a file). */
export function formatListing(l: CacheListing): string {
  const rows = [['INSTANCE', 'KIND', 'NAME', 'VERSION', 'VARIANTS', 'SIZE', 'LAST ACCESS']];
  for (const inst of l.instances) {
    const items = [...inst.items].sort((a, b) => a.name.localeCompare(b.name) || byVersion(a.version, b.version));
    for (const it of items) rows.push([inst.instance, it.kind, it.name, it.version || '–', it.variants.join(',') || '–', humanSize(it.size), when(new Date(it.lastAccess).toISOString())]);
  }
  const out = rows.length > 1 ? table(rows) : 'nothing cached\n';
  return `${out}\n${l.objects} object(s), ${humanSize(l.bytes)} in total (metadata included)\n`;
}

/** Runs `regcache ls`. */
export async function runLs(ctx: CliToolContext): Promise<number> {
  if (ctx.args.rest.length > 0) throw new UsageError(`ls takes no arguments, got ${JSON.stringify(ctx.args.rest[0])}`);
  const target = await resolveTarget(ctx);
  let listing: CacheListing;
  if (target.kind === 'server') {
    const http = await createHttpClient(ctx.opts.ca, ctx.env);
    try {
      const answer = await http.json(apiUrl(target.url, '/admin/cache'), { auth: { kind: 'admin', token: adminToken(ctx) } });
      if (!isListing(answer)) throw new CommandError('unexpected answer from /admin/cache');
      listing = answer;
    } finally {
      await http.close();
    }
  } else {
    try {
      listing = describeCache(await offlineInstances(target.config, target.store), await createUsageTracker(target.store).scan());
    } finally {
      await target.store.close();
    }
  }
  ctx.io.stdout.write(ctx.opts.json === true ? `${JSON.stringify(listing, null, 2)}\n` : formatListing(listing));
  return 0;
}
