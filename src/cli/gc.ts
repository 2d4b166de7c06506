/**
 * `regcache gc`: one retention run now (expired objects, then least recently
 * used packages above the size limit). With --server the server does it
 * with its configured limits and knows which objects are being streamed;
 * on a store (--config / --storage-path) this process does it, with the
 * configured limits or --max-size / --expire-after, and must not race a
 * live server: removing needs --force (see the help text).
 */
import { classifier } from '../app-instances.js';
import { parseDuration } from '../config/duration.js';
import { parseSize } from '../config/size.js';
import { applyRetention, type RetentionReport } from '../ops/retention.js';
import { createUsageTracker } from '../ops/usage.js';
import { resolveTarget } from './direct-store.js';
import { createHttpClient } from './kit/http-client.js';
import { adminToken, apiUrl, CommandError, humanSize, table, UsageError, when } from './kit/tool-io.js';
import type { CliToolContext } from './args.js';

function isReport(v: unknown): v is RetentionReport {
  const r = v as Partial<RetentionReport> | null;
  return typeof r?.dryRun === 'boolean' && Array.isArray(r.removed) && typeof r.bytesBefore === 'number' && typeof r.bytesAfter === 'number';
}

/** The report as text: one line per removal, then a summary. */
export function formatReport(r: RetentionReport): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  let out = '';
  if (r.removed.length > 0) {
    out += table([['KEY', 'SIZE', 'REASON', 'LAST ACCESS'], ...r.removed.map((x) => [x.key, humanSize(x.size), x.reason, when(x.lastAccess)])]);
  }
  const freed = humanSize(r.bytesBefore - r.bytesAfter);
  out += `${verb} ${r.removed.length} of ${r.scanned} object(s), ${freed}: ${humanSize(r.bytesBefore)} → ${humanSize(r.bytesAfter)}`;
  if (r.skippedBusy > 0) out += ` (${r.skippedBusy} in use, kept)`;
  return `${out}\n`;
}

const parseFlag = (text: string | undefined, flag: string, parse: (t: string) => number): number | undefined => {
  if (text === undefined) return undefined;
  try {
    return parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
};

/** Runs `regcache gc`. */
export async function runGc(ctx: CliToolContext): Promise<number> {
  if (ctx.args.rest.length > 0) throw new UsageError(`gc takes no arguments, got ${JSON.stringify(ctx.args.rest[0])}`);
  const dryRun = ctx.opts.dryRun === true;
  const maxSize = parseFlag(ctx.opts.maxSize, '--max-size', parseSize);
  const expireAfterMs = parseFlag(ctx.opts.expireAfter, '--expire-after', parseDuration);
  const target = await resolveTarget(ctx);
  let report: RetentionReport;
  if (target.kind === 'server') {
    if (maxSize !== undefined || expireAfterMs !== undefined || ctx.opts.force === true) {
      throw new UsageError('--max-size, --expire-after and --force are for a store (--config/--storage-path); a server uses its own limits');
    }
    const http = await createHttpClient(ctx.opts.ca, ctx.env);
    try {
      const url = apiUrl(target.url, '/admin/gc');
      if (dryRun) url.searchParams.set('dryRun', 'true');
      const answer = await http.json(url, { method: 'POST', auth: { kind: 'admin', token: adminToken(ctx) } });
      if (!isReport(answer)) throw new CommandError('unexpected answer from /admin/gc');
      report = answer;
    } finally {
      await http.close();
    }
  } else {
    try {
      const limits = {
        maxSize: maxSize ?? target.config.storage.maxSize,
        expireAfterMs: expireAfterMs ?? target.config.storage.expireAfter,
      };
      if (limits.maxSize === undefined && limits.expireAfterMs === undefined) {
        throw new UsageError('no retention limits: set storage.maxSize / storage.expireAfter or give --max-size / --expire-after');
      }
      if (!dryRun && ctx.opts.force !== true) {
        throw new UsageError('removing files from a store a server may be using needs --force (stop the server first, or use --server; --dry-run is always safe)');
      }
      const objects = await createUsageTracker(target.store).scan();
      report = await applyRetention(objects, (key) => target.store.delete(key), { ...limits, dryRun, busy: () => false, classify: classifier() });
    } finally {
      await target.store.close();
    }
  }
  ctx.io.stdout.write(ctx.opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return 0;
}
