/**
 * The registry's `config.json`: the upstream's copy is stored as it came
 * (so regcache learns the upstream download URL template from it), and
 * clients get it rewritten to point at this server: `dl` at regcache's
 * download path, `api` (when the upstream has one) at the mount, and
 * `auth-required` set when the instance says so. Templates in `dl` are
 * expanded as cargo does (`{crate}`, `{version}`, `{prefix}`,
 * `{lowerprefix}`, `{sha256-checksum}`; none: `/{crate}/{version}/download`
 * appended).
 */
import { RegcacheError } from '../../core/errors.js';
import type { IndexEntry } from './index-file.js';
import { indexPrefix } from './names.js';

/** The path below the mount that `dl` names (cache-proxy's, so its clients' lock files keep working). */
export const DOWNLOAD_PATH = '/api/v1/crates/{crate}/{version}/download';

const MARKERS = ['{crate}', '{version}', '{prefix}', '{lowerprefix}', '{sha256-checksum}'];

function parse(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream config.json is not JSON', { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream config.json is not an object');
  return v as Record<string, unknown>;
}

/** Throws unless an upstream config.json is usable (an object with a string `dl`); run before it is stored. */
export function checkRegistryConfig(body: Buffer): void {
  if (typeof parse(body).dl !== 'string') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream config.json has no dl');
}

/** The upstream `dl` template, resolved against the config.json URL it came from. */
export function upstreamDl(body: Buffer, configUrl: string): string {
  const dl = parse(body).dl;
  if (typeof dl !== 'string') throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream config.json has no dl');
  try {
    return new URL(dl, configUrl).href.replace(/%7B/g, '{').replace(/%7D/g, '}');
  } catch (err) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream dl is not a URL', { cause: err });
  }
}

/** The URL of one `.crate` file under an upstream `dl` template; throws unless it is a plain http(s) URL. */
export function downloadUrl(dl: string, entry: IndexEntry): string {
  const prefix = indexPrefix(entry.name);
  const text = MARKERS.some((m) => dl.includes(m))
    ? dl
        .replaceAll('{crate}', entry.name)
        .replaceAll('{version}', entry.vers)
        .replaceAll('{prefix}', prefix)
        .replaceAll('{lowerprefix}', prefix.toLowerCase())
        .replaceAll('{sha256-checksum}', entry.cksum)
    : `${dl.replace(/\/+$/, '')}/${entry.name}/${entry.vers}/download`;
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream dl gives no URL', { cause: err });
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', 'upstream dl must be a plain http(s) URL');
  }
  return url.href;
}

/** The config.json a client gets: `dl` and `api` on this server (`base` = public URL + mount). */
export function clientRegistryConfig(body: Buffer, base: string, authRequired: boolean): Buffer {
  const cfg = parse(body);
  const out: Record<string, unknown> = { ...cfg, dl: `${base}${DOWNLOAD_PATH}` };
  if (cfg.api !== undefined) out.api = base;
  if (authRequired) out['auth-required'] = true;
  return Buffer.from(JSON.stringify(out));
}
