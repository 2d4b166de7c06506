/**
 * `regcache ls`: what the cache holds, as a table (or the JSON of GET
 * /admin/cache with --json), from a running server or straight from a store.
 */
import semver from 'semver';
import { describeCache } from '../http/admin-listing.js';
import { createUsageTracker } from '../ops/usage.js';
import { resolveTarget } from './direct-store.js';
import { createHttpClient } from './http-client.js';
import { adminToken, apiUrl, CommandError, humanSize, table, UsageError, when, type ToolContext } from './tool-io.js';

type Listing = ReturnType<typeof describeCache>;

const byVersion = (a: string, b: string): number => (semver.valid(a) && semver.valid(b) ? semver.compare(a, b) : a.localeCompare(b));

function isListing(v: unknown): v is Listing {
  const l = v as Partial<Listing> | null;
  return Array.isArray(l?.providers) && Array.isArray(l.modules) && typeof l.objects === 'number' && typeof l.bytes === 'number';
}

/** The table text for a listing. */
export function formatListing(l: Listing): string {
  let out = '';
  if (l.providers.length > 0) {
    const rows = [['PROVIDER', 'VERSION', 'PLATFORM', 'SIZE', 'LAST ACCESS']];
    for (const p of l.providers) {
      for (const v of Object.keys(p.versions).sort(byVersion)) {
        const plats = p.versions[v] ?? {};
        for (const plat of Object.keys(plats).sort()) {
          const e = plats[plat];
          if (e) rows.push([p.provider, v, plat, humanSize(e.size), when(e.lastAccess)]);
        }
      }
    }
    out += table(rows);
  }
  if (l.modules.length > 0) {
    const rows = [['MODULE', 'VERSION', 'SIZE', 'LAST ACCESS']];
    for (const m of l.modules) {
      for (const v of Object.keys(m.versions).sort(byVersion)) {
        const e = m.versions[v];
        if (e) rows.push([m.module, v, humanSize(e.size), when(e.lastAccess)]);
      }
    }
    out += (out ? '\n' : '') + table(rows);
  }
  if (out === '') out = 'no providers or modules cached\n';
  return `${out}\n${l.objects} object(s), ${humanSize(l.bytes)} in total (metadata included)\n`;
}

/** Runs `regcache ls`. */
export async function runLs(ctx: ToolContext): Promise<number> {
  if (ctx.args.rest.length > 0) throw new UsageError(`ls takes no arguments, got ${JSON.stringify(ctx.args.rest[0])}`);
  const target = await resolveTarget(ctx);
  let listing: Listing;
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
      listing = describeCache(await createUsageTracker(target.store).scan());
    } finally {
      await target.store.close();
    }
  }
  ctx.io.stdout.write(ctx.opts.json === true ? `${JSON.stringify(listing, null, 2)}\n` : formatListing(listing));
  return 0;
}
