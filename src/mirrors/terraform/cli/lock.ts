/**
 * `regcache lock`: writes a complete `.terraform.lock.hcl` for a
 * configuration, through regcache's network mirror. Terraform itself only
 * records the `h1:` of the platform it ran on when installing from a
 * mirror, so teams on several platforms fight over the lock file; this
 * downloads every requested platform's package, computes its `h1:` locally
 * (checked against the `zh:` and any `h1:` regcache lists) and adds the
 * `zh:` of every published platform.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newestMatching, parseConstraint } from '../constraints.js';
import { h1FromZipFile } from '../h1-hash.js';
import { parsePlatform } from '../names.js';
import { createHttpClient, type Auth, type HttpClient } from '../../../cli/kit/http-client.js';
import { lockedVersions, renderLockFile, type LockEntry } from './lock-file.js';
import { requiredProviders, type RequiredProvider } from './required-providers.js';
import { apiUrl, CommandError, listOption, requireServer, stringOption, switchOption, UsageError, type ToolContext } from '../../../cli/kit/tool-io.js';

interface VersionJson {
  archives: Record<string, { url: string; hashes?: string[] }>;
}

const LOCK_FILE = '.terraform.lock.hcl';

/** This machine's platform in Terraform's spelling (the default, as for `terraform providers lock`). */
export function currentPlatform(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;
  return `${os}_${arch}`;
}

function asVersionJson(v: unknown, url: URL): VersionJson {
  const archives = (v as { archives?: unknown } | null)?.archives;
  if (typeof archives !== 'object' || archives === null) throw new CommandError(`${url.pathname}: no "archives" object`);
  for (const a of Object.values(archives)) {
    if (typeof (a as { url?: unknown } | null)?.url !== 'string') throw new CommandError(`${url.pathname}: an archive has no "url"`);
  }
  return v as VersionJson;
}

/** The version to lock: the locked one while it still matches (unless --upgrade), else the newest match. */
function chooseVersion(p: RequiredProvider, available: string[], locked: string | undefined, upgrade: boolean): string {
  const predicate = parseConstraint(p.constraints === '' ? '>= 0.0.0' : p.constraints);
  if (!upgrade && locked !== undefined && available.includes(locked) && predicate(locked)) return locked;
  const version = newestMatching(available, predicate);
  if (version === undefined) {
    throw new CommandError(`${p.address}: no version matches ${JSON.stringify(p.constraints || 'any')} (available: ${available.join(', ') || 'none'})`);
  }
  return version;
}

/** Downloads one platform's package into `tmp` and returns its checked `h1:`. */
async function platformH1(http: HttpClient, versionUrl: URL, vj: VersionJson, label: string, platform: string, tmp: string): Promise<string> {
  const archive = vj.archives[platform];
  if (archive === undefined) {
    throw new CommandError(`${label} is not available for ${platform} (published: ${Object.keys(vj.archives).sort().join(', ')})`);
  }
  const file = join(tmp, `${platform}.zip`);
  const { sha256 } = await http.download(new URL(archive.url, versionUrl), file);
  const listed = archive.hashes ?? [];
  const zh = listed.filter((h) => h.startsWith('zh:'));
  if (zh.length > 0 && !zh.includes(`zh:${sha256}`)) throw new CommandError(`${label} ${platform}: the package does not match its zh: hash`);
  const h1 = await h1FromZipFile(file);
  const listedH1 = listed.filter((h) => h.startsWith('h1:'));
  if (listedH1.length > 0 && !listedH1.includes(h1)) throw new CommandError(`${label} ${platform}: computed ${h1}, but regcache lists ${listedH1.join(', ')}`);
  await rm(file, { force: true });
  return h1;
}

async function lockProvider(
  ctx: ToolContext,
  http: HttpClient,
  mirror: URL,
  p: RequiredProvider,
  locked: string | undefined,
  platforms: readonly string[],
  tmp: string,
): Promise<LockEntry> {
  const auth: Auth = { kind: 'client', token: stringOption(ctx, 'clientToken') };
  const base = apiUrl(mirror, `/${[p.host, p.namespace, p.type].map(encodeURIComponent).join('/')}/`);
  const index = (await http.json(new URL('index.json', base), { auth })) as { versions?: unknown } | null;
  if (typeof index?.versions !== 'object' || index.versions === null) throw new CommandError(`${p.address}: index.json has no "versions"`);
  const version = chooseVersion(p, Object.keys(index.versions), locked, switchOption(ctx, 'upgrade'));
  const versionUrl = new URL(`${encodeURIComponent(version)}.json`, base);
  const vj = asVersionJson(await http.json(versionUrl, { auth }), versionUrl);
  const label = `${p.address} ${version}`;
  const h1s = await Promise.all(platforms.map((plat) => platformH1(http, versionUrl, vj, label, plat, tmp)));
  const zhs = Object.values(vj.archives).flatMap((a) => (a.hashes ?? []).filter((h) => /^zh:[0-9a-f]{64}$/.test(h)));
  ctx.io.stdout.write(`- ${label}: h1: for ${platforms.join(', ')}; zh: for ${Object.keys(vj.archives).length} platform(s)\n`);
  return { address: p.address, version, constraints: p.constraints, hashes: [...h1s, ...zhs] };
}

/** Runs `regcache lock [DIR]`. */
export async function runLock(ctx: ToolContext): Promise<number> {
  const server = requireServer(ctx);
  if (ctx.args.rest.length > 1) throw new UsageError('give one configuration DIR');
  const dir = ctx.args.rest[0] ?? '.';
  const platforms = [...new Set(listOption(ctx, 'platforms') ?? [currentPlatform()])];
  for (const p of platforms) {
    try {
      parsePlatform(p);
    } catch {
      throw new UsageError(`--platform expects OS_ARCH such as linux_amd64, got ${JSON.stringify(p)}`);
    }
  }
  const providers = await requiredProviders(dir);
  if (providers.length === 0) throw new CommandError(`${dir}: no required_providers found in its .tf files`);
  const lockPath = join(dir, LOCK_FILE);
  const locked = lockedVersions(await readFile(lockPath, 'utf8').catch(() => ''));
  const mirror = apiUrl(server, '/v1/mirror');
  const http = await createHttpClient(ctx.opts.ca, ctx.env);
  const tmp = await mkdtemp(join(tmpdir(), 'regcache-lock-'));
  try {
    const entries: LockEntry[] = [];
    for (const p of providers) entries.push(await lockProvider(ctx, http, mirror, p, locked.get(p.address), platforms, tmp));
    const staged = `${lockPath}.regcache-${process.pid}`;
    await writeFile(staged, renderLockFile(entries));
    await rename(staged, lockPath);
    ctx.io.stdout.write(`wrote ${lockPath}\n`);
    return 0;
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await http.close();
  }
}
