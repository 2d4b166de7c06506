/**
 * The Terraform mode's admin hooks: purge targets
 * (HOST[/NS[/TYPE[/VERSION]]] for providers under `/v1/mirror`,
 * HOST[/NS[/NAME[/SYSTEM[/VERSION]]]] for modules under `/v1/modules`) and
 * warm requests (a lock file, or JSON `{providers:[{source,version,platforms}]}`).
 */
import { RegcacheError } from '../../core/errors.js';
import { hostKey, parseHost, parseName, parseVersion } from './names.js';
import { parseLockFile, validateWarmItems, type WarmItem } from './warm.js';

/**
 * Maps a purge path to the key prefixes it covers. The first segment says
 * what: `providers` (the `/v1/mirror` alias) or `modules`.
 */
export function terraformPurgeTarget(segments: readonly string[]): { prefixes: string[]; target: string } {
  const [kind, host, ...rest] = segments;
  if (kind !== 'providers' && kind !== 'modules') throw new RegcacheError('ERR_NOT_FOUND', 'purge providers/HOST/… or modules/HOST/…');
  const maxRest = kind === 'providers' ? 3 : 4;
  if (host === undefined || rest.length > maxRest) throw new RegcacheError('ERR_NOT_FOUND');
  const h = parseHost(host);
  const names = rest.map((r, i) => (i === maxRest - 1 ? parseVersion(r) : parseName('name', r)));
  const root = kind === 'providers' ? 'tf/providers' : 'tf/modules';
  const prefixes = [[root, hostKey(h), ...names].join('/') + '/'];
  // A whole provider host also drops its discovery document.
  if (kind === 'providers' && rest.length === 0) prefixes.push(`tf/discovery/${hostKey(h)}`);
  return { prefixes, target: [h, ...names].join('/') };
}

/** Parses a warm request body (lock file text or JSON). */
export function parseWarmBody(text: string, query: URLSearchParams): WarmItem[] {
  const platforms = query.getAll('platform');
  let items: WarmItem[];
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
  return items;
}
