/**
 * Deterministic request generator for the fuzz run: valid-looking requests
 * on every route prefix with hostile hosts (metadata address, loopback,
 * user-info, ports, the canary), then percent-encoded, lengthened, mutated
 * and random-byte variants, odd methods, absolute-form and CONNECT targets,
 * and admin calls (with and without the token) naming the same hosts.
 */
import type { Rng } from './support.js';

/** One request to send verbatim. */
export interface FuzzCase {
  kind: string;
  method: string;
  /** Raw request target; may hold any byte. */
  target: Buffer;
  headers: Array<[string, string]>;
  body?: string;
}

/** Ports and secrets the generator may aim at. */
export interface FuzzContext {
  canaryPort: number;
  originPort: number;
  adminToken: string;
}

const ALLOWED = ['registry.terraform.io', 'REGISTRY.terraform.IO'];

function hostileHosts(c: FuzzContext): string[] {
  const k = String(c.canaryPort);
  const o = String(c.originPort);
  return [
    '169.254.169.254', '169.254.169.254:80', 'metadata.google.internal', 'localhost', `localhost:${k}`, '127.0.0.1', `127.0.0.1:${k}`,
    `127.0.0.1:${o}`, `[::1]`, `[::1]:${k}`, '::1', `user@127.0.0.1:${k}`, `user:pw@registry.terraform.io`, `registry.terraform.io@127.0.0.1:${k}`,
    `registry.terraform.io:${k}`, `registry.terraform.io:${o}`, 'registry.terraform.io.', '0x7f000001', '2130706433', '0177.0.0.1', '127.1',
    '0.0.0.0', `0.0.0.0:${k}`, 'evil.example', `127.0.0.1%3A${k}`, '%31%32%37.0.0.1', `registry.terraform.io%40127.0.0.1:${k}`,
    `registry.terraform.io%2F..%2F127.0.0.1:${k}`, `[::ffff:127.0.0.1]:${k}`, `[fe80::1%25lo]:${k}`, `127.0.0.1.nip.io:${k}`, 'registry.opentofu.org.evil.example',
  ];
}

const GOOD_NAMES = ['acme', 'hashicorp', 'widget', 'net', 'aws', 'random'];
const NAMES = ['acme', 'hashicorp', 'widget', 'net', 'aws', 'AcMe', '..', '.', '%2e%2e', 'a.b', 'a@b', 'x:y', '-x', '_', 'ok_name', 'long-name-123'];
const VERSIONS = ['1.0.0', '2.3.4-beta.1', '1.0.0+build.7', '0.0.1', '1.0', 'v1.0.0', 'latest', '../1.0.0', '1.0.0%00', '99999999999.0.0', '1.0.0-', '01.0.0'];
const PLATFORMS = ['linux_amd64', 'darwin_arm64', 'windows_386', 'linux-amd64', '_amd64', 'linux_', 'LINUX_AMD64', 'a_b_c', '..'];
const SPICE = ['/', '//', '.', '..', '/../', '%', '%2f', '%2F', '%2e', '%5c', '\\', '@', ':', '?', '#', ';', '%00', '%0d%0a', ' ', '\t', 'é', '%ff', '%25', '~', '*', '"', '<', '>'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'G3T'];

/** Creates the generator; each call returns the next case. */
export function createFuzzer(rng: Rng, c: FuzzContext): () => FuzzCase {
  const hostile = hostileHosts(c);
  const host = (): string => (rng.chance(0.5) ? rng.pick(ALLOWED) : rng.chance(0.85) ? rng.pick(hostile) : randomToken(rng, 1 + rng.int(40)));
  const name = (): string => (rng.chance(0.4) ? rng.pick(GOOD_NAMES) : rng.chance(0.6) ? rng.pick(NAMES) : randomToken(rng, 1 + rng.int(70)));
  const version = (): string => (rng.chance(0.8) ? rng.pick(VERSIONS) : `${rng.int(10)}.${rng.int(20)}.${rng.int(100)}`);
  const platform = (): string => rng.pick(PLATFORMS);
  const zip = (type: string, v: string, p: string): string => (rng.chance(0.8) ? `terraform-provider-${type}_${v}_${p}.zip` : rng.pick(['..zip', 'x.zip', 'SHA256SUMS', 'a%2fb.zip', randomToken(rng, 30)]));
  const query = (): string => (rng.chance(0.85) ? '' : rng.pick(['?exp=1&sig=AAAA', `?exp=9999999999&sig=${'A'.repeat(43)}`, `?x=${randomToken(rng, 20)}`, `?url=http://127.0.0.1:${c.canaryPort}/`, '?only=metadata', `?${'q'.repeat(rng.int(3000))}`]));

  const valid: Record<string, () => string> = {
    mirror() {
      const [h, ns, t, v, p] = [host(), name(), name(), version(), platform()];
      const tail = rng.pick(['index.json', `${v}.json`, `${v}/${p}/${zip(t, v, p)}`]);
      return `/v1/mirror/${h}/${ns}/${t}/${tail}${query()}`;
    },
    providers() {
      const [h, ns, t, v, p] = [host(), name(), name(), version(), platform()];
      const tail = rng.pick(['versions', `${v}/download/${p.replace('_', '/')}`, `${v}/archives/${p}/${zip(t, v, p)}`, `${v}/archives/SHA256SUMS`, `${v}/archives/SHA256SUMS.sig`]);
      return `/v1/providers/${h}/${ns}/${t}/${tail}${query()}`;
    },
    modules() {
      const [h, v] = [host(), version()];
      const tail = rng.pick(['versions', `${v}/download`, `${v}/archive.tar.gz`, `${v}/archive.zip`, `${v}/git/${'a'.repeat(40)}.tar.gz`, `${v}/git/${randomToken(rng, 40)}.tar.gz`]);
      return `/v1/modules/${h}/${name()}/${name()}/${name()}/${tail}${query()}`;
    },
    wellKnown: () => rng.pick(['/.well-known/terraform.json', '/.well-known/', `/.well-known/${name()}`, '/.well-known/terraform.json/x', '/.well-known/../admin/cache']),
    admin: () => rng.pick(['/admin/cache', '/admin/stats', '/admin/warm', `/admin/warm/${randomToken(rng, 8)}`, '/admin/gc?dryRun=true', `/admin/${name()}`, `/v1/mirror/${host()}`, `/v1/modules/${host()}/${name()}`]),
    ops: () => rng.pick(['/health', '/ready', '/metrics', '/', '/health/x', '/ready?x=1', '/metrics/../admin', '/favicon.ico', '/status']),
  };
  const prefixes = Object.keys(valid);

  function target(kind: string): string | Buffer {
    const direct = valid[kind];
    if (direct) return direct();
    const base = (valid[rng.pick(prefixes)] ?? ((): string => '/'))();
    switch (kind) {
      case 'encoded':
        return [...base].map((ch) => (ch !== '/' && rng.chance(0.3) ? `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : rng.chance(0.02) ? '%252e' : ch)).join('');
      case 'long': {
        const segs = base.split('/');
        const i = 1 + rng.int(Math.max(1, segs.length - 1));
        segs[i] = rng.pick(['a', 'x', '%41', '.']).repeat(200 + rng.int(5000));
        return segs.join('/');
      }
      case 'mutated': {
        let s = base;
        for (let n = 1 + rng.int(4); n > 0; n--) {
          const at = rng.int(s.length + 1);
          const op = rng.int(3);
          if (op === 0) s = s.slice(0, at) + rng.pick(SPICE) + s.slice(at);
          else if (op === 1) s = s.slice(0, at) + s.slice(at + 1 + rng.int(5));
          else s = s.slice(0, at) + rng.pick(hostile) + s.slice(at);
        }
        return s;
      }
      case 'absolute':
        return rng.pick([`http://127.0.0.1:${c.canaryPort}/`, `https://127.0.0.1:${c.canaryPort}${base}`, 'http://169.254.169.254/latest/meta-data/', `//127.0.0.1:${c.canaryPort}/x`, '*']);
      default: {
        const bytes = Buffer.alloc(1 + rng.int(300));
        for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
        if (rng.chance(0.5)) bytes[0] = 0x2f;
        return bytes;
      }
    }
  }

  return () => {
    const kind = rng.pick([...prefixes, ...prefixes, 'encoded', 'encoded', 'long', 'mutated', 'mutated', 'mutated', 'absolute', 'bytes', 'bytes']);
    const raw = target(kind);
    const headers: Array<[string, string]> = [];
    let method = rng.pick(METHODS);
    let body: string | undefined;
    if (kind === 'absolute' && rng.chance(0.3)) method = 'CONNECT';
    if (kind === 'admin' && rng.chance(0.6)) {
      headers.push(['authorization', `Bearer ${c.adminToken}`]);
      const action = rng.int(4);
      if (action < 2) {
        method = 'POST';
        const source = `${host()}/${name()}/${name()}`;
        body = rng.chance(0.8)
          ? JSON.stringify({ providers: [{ source, version: rng.pick(['~> 1.0', '1.0.0', '>= 0', version()]), platforms: [platform()] }] })
          : `provider "${source}" {\n  version = "1.0.0"\n  hashes = ["h1:x"]\n}\n`;
      } else if (action === 2) method = 'DELETE';
    } else if (rng.chance(0.1)) headers.push(['authorization', rng.pick(['Bearer x', `Bearer ${randomToken(rng, 40)}`, 'Basic dXNlcjpwdw==', `Bearer ${c.adminToken}x`])]);
    if (rng.chance(0.1)) headers.push(['host', rng.pick([...hostile, 'registry.terraform.io'])]);
    if (rng.chance(0.05)) headers.push(['x-forwarded-host', rng.pick(hostile)]);
    if (rng.chance(0.05)) headers.push(['range', rng.pick(['bytes=0-9', 'bytes=-1', 'bytes=99999999-', 'bytes=5-1', 'bytes=0-0,2-3', 'items=1-2'])]);
    return { kind, method, target: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'), headers, ...(body === undefined ? {} : { body }) };
  };
}

function randomToken(rng: Rng, n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_.ABC%@:';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)] ?? 'a';
  return s;
}
