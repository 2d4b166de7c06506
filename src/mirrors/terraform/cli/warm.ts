/**
 * `regcache warm`: asks a running regcache to pull providers into its cache
 * (POST /admin/warm) and follows the job to the end, so a CI step or an
 * operator knows the cache is ready (exit 0) or what is missing (exit 1).
 * Providers come from a lock file (exact versions), a configuration
 * directory or `.tf` file (required_providers constraints), or `--provider`.
 */
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLockFile } from '../warm.js';
import { createHttpClient, type Auth, type HttpClient } from '../../../cli/kit/http-client.js';
import { requiredProviders } from './required-providers.js';
import { adminToken, apiUrl, CommandError, listOption, requireServer, UsageError, type ToolContext } from '../../../cli/kit/tool-io.js';

/** What GET /admin/warm/:id answers (the fields used here). */
interface Job {
  id: string;
  state: 'running' | 'done' | 'failed';
  total: number;
  done: number;
  failed: number;
  errors: string[];
}

const POLL_MS = 250;
const BAR_WIDTH = 30;

function isJob(v: unknown): v is Job {
  const j = v as Partial<Job> | null;
  return typeof j?.id === 'string' && typeof j.state === 'string' && typeof j.done === 'number' && typeof j.total === 'number';
}

/** `host/ns/type@constraint` → a warm item. */
function providerFlag(text: string, platforms: readonly string[]): Record<string, unknown> {
  const at = text.indexOf('@');
  const source = at === -1 ? text : text.slice(0, at);
  const version = at === -1 ? '' : text.slice(at + 1).trim();
  if (source === '' || (at !== -1 && version === '')) throw new UsageError(`--provider expects SOURCE[@CONSTRAINT], got ${JSON.stringify(text)}`);
  return { source, ...(version === '' ? {} : { version }), platforms };
}

/** The request body and a description of it. */
async function warmRequest(ctx: ToolContext, platforms: readonly string[]): Promise<{ body: string; contentType: string; what: string; count: number }> {
  const flags = listOption(ctx, 'providers') ?? [];
  if (flags.length > 0 && ctx.args.rest.length > 0) throw new UsageError('give either --provider flags or a LOCKFILE/DIR, not both');
  if (ctx.args.rest.length > 1) throw new UsageError('give one LOCKFILE or DIR');
  if (flags.length > 0) {
    const providers = flags.map((f) => providerFlag(f, platforms));
    return { body: JSON.stringify({ providers }), contentType: 'application/json', what: `${providers.length} provider(s)`, count: providers.length };
  }
  const path = ctx.args.rest[0] ?? '.';
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new UsageError(`${path}: no such file or directory`);
  if (info.isFile() && !path.endsWith('.tf')) {
    const text = await readFile(path, 'utf8');
    let count: number;
    try {
      count = parseLockFile(text).length;
    } catch (err) {
      throw new CommandError(`${path}: ${(err as Error).message}`);
    }
    return { body: text, contentType: 'text/plain', what: `${count} provider(s) from ${path}`, count };
  }
  const found = await requiredProviders(path);
  if (found.length === 0) throw new CommandError(`${path}: no required_providers found in its .tf files`);
  const providers = found.map((p) => ({ source: p.address, ...(p.constraints === '' ? {} : { version: p.constraints }), platforms }));
  return { body: JSON.stringify({ providers }), contentType: 'application/json', what: `${providers.length} provider(s) from ${path}`, count: providers.length };
}

/**
 * Shows progress: one rewritten line on a terminal, a line per change
 * otherwise. The server learns its total as it goes, so the total shown is
 * at least what the request asked for and never shrinks.
 */
function progressView(ctx: ToolContext, expected: number): { show(job: Job): void; end(): void } {
  const tty = ctx.io.stdout.isTTY === true;
  let last = '';
  return {
    show(job) {
      const settled = job.done + job.failed;
      const total = Math.max(job.total, expected, settled);
      const failed = job.failed > 0 ? ` (${job.failed} failed)` : '';
      if (tty) {
        const filled = total === 0 ? 0 : Math.round((settled / total) * BAR_WIDTH);
        const line = `\rwarming [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${settled}/${total}${failed}`;
        if (line !== last) ctx.io.stdout.write(line.padEnd(last.length));
        last = line;
      } else {
        const line = `warming: ${settled}/${total}${failed}`;
        if (line !== last) ctx.io.stdout.write(`${line}\n`);
        last = line;
      }
    },
    end() {
      if (tty && last !== '') ctx.io.stdout.write('\n');
    },
  };
}

/** Job errors, each distinct message once (a provider that failed fails once per platform). */
function distinctErrors(errors: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(e, (counts.get(e) ?? 0) + 1);
  return [...counts].map(([e, n]) => (n > 1 ? `${e} (×${n})` : e));
}

async function follow(ctx: ToolContext, http: HttpClient, server: URL, auth: Auth, first: Job, expected: number): Promise<Job> {
  const view = progressView(ctx, expected);
  let job = first;
  try {
    for (;;) {
      view.show(job);
      if (job.state !== 'running') return job;
      await sleep(POLL_MS);
      const next = await http.json(apiUrl(server, `/admin/warm/${encodeURIComponent(job.id)}`), { auth });
      if (!isJob(next)) throw new CommandError('unexpected answer from /admin/warm/:id');
      job = next;
    }
  } finally {
    view.end();
  }
}

/** Runs `regcache warm`. */
export async function runWarm(ctx: ToolContext): Promise<number> {
  const server = requireServer(ctx);
  const auth: Auth = { kind: 'admin', token: adminToken(ctx) };
  const platforms = listOption(ctx, 'platforms') ?? [];
  const req = await warmRequest(ctx, platforms);
  const http = await createHttpClient(ctx.opts.ca, ctx.env);
  try {
    const url = apiUrl(server, '/admin/warm');
    for (const p of platforms) url.searchParams.append('platform', p);
    const started = await http.json(url, { method: 'POST', body: req.body, contentType: req.contentType, auth });
    if (!isJob(started)) throw new CommandError('unexpected answer from /admin/warm');
    const where = platforms.length > 0 ? platforms.join(', ') : "the server's default platform";
    ctx.io.stdout.write(`warming ${req.what} for ${where} (job ${started.id})\n`);
    const job = await follow(ctx, http, server, auth, started, req.count * Math.max(platforms.length, 1));
    for (const e of distinctErrors(job.errors)) ctx.io.stderr.write(`error: ${e}\n`);
    if (job.state === 'done' && job.failed === 0) {
      ctx.io.stdout.write(`warmed ${job.done} package(s)\n`);
      return 0;
    }
    ctx.io.stderr.write(`warm failed: ${job.done} of ${Math.max(job.total, job.done + job.failed)} package(s) cached, ${job.failed} failed\n`);
    return 1;
  } finally {
    await http.close();
  }
}
