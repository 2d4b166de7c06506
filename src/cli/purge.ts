/**
 * `regcache purge HOST[/NS[/TYPE[/VERSION]]]`: removes cached providers
 * (or, with --modules, modules: HOST[/NS[/NAME[/SYSTEM[/VERSION]]]]) through
 * the admin API, so the next request fetches them from upstream again.
 * `--instance NAME PATH` purges any mode instance's objects under PATH
 * (`DELETE /admin/purge/NAME/PATH`; the instance's mode maps it to keys).
 * --metadata-only keeps downloaded packages and drops only the answers
 * that go stale (version lists, download metadata).
 */
import { createHttpClient } from './kit/http-client.js';
import { adminToken, apiUrl, CommandError, humanSize, requireServer, UsageError } from './kit/tool-io.js';
import type { CliToolContext } from './args.js';

interface PurgeAnswer {
  target: string;
  removed: number;
  bytes: number;
  keys: string[];
}

function isPurgeAnswer(v: unknown): v is PurgeAnswer {
  const a = v as Partial<PurgeAnswer> | null;
  return typeof a?.target === 'string' && typeof a.removed === 'number' && typeof a.bytes === 'number' && Array.isArray(a.keys);
}

/** Runs `regcache purge`. */
export async function runPurge(ctx: CliToolContext): Promise<number> {
  const server = requireServer(ctx);
  const token = adminToken(ctx);
  const modules = ctx.opts.modules === true;
  const instance = ctx.opts.instance;
  const [target, ...extra] = ctx.args.rest;
  const shape = instance !== undefined ? 'PATH' : modules ? 'HOST[/NAMESPACE[/NAME[/SYSTEM[/VERSION]]]]' : 'HOST[/NAMESPACE[/TYPE[/VERSION]]]';
  if (target === undefined || extra.length > 0) throw new UsageError(`purge needs one ${shape}`);
  const parts = target.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.some((p) => p === '') || (instance === undefined && parts.length > (modules ? 5 : 4))) throw new UsageError(`purge expects ${shape}, got ${JSON.stringify(target)}`);
  if (instance !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(instance)) throw new UsageError(`--instance expects an instance name, got ${JSON.stringify(instance)}`);
  const path = instance !== undefined ? `/admin/purge/${instance}` : `/v1/${modules ? 'modules' : 'mirror'}`;
  const url = apiUrl(server, `${path}/${parts.map(encodeURIComponent).join('/')}`);
  if (ctx.opts.metadataOnly === true) url.searchParams.set('only', 'metadata');
  const http = await createHttpClient(ctx.opts.ca, ctx.env);
  try {
    const answer = await http.json(url, { method: 'DELETE', auth: { kind: 'admin', token } });
    if (!isPurgeAnswer(answer)) throw new CommandError('unexpected answer to the purge request');
    if (ctx.opts.json === true) {
      ctx.io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    } else {
      const what = ctx.opts.metadataOnly === true ? 'metadata object(s)' : 'object(s)';
      ctx.io.stdout.write(`purged ${answer.removed} ${what} (${humanSize(answer.bytes)}) under ${answer.target}\n`);
    }
    return 0;
  } finally {
    await http.close();
  }
}
