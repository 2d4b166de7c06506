/**
 * The status page (`GET /`): version, uptime, storage usage, hit rate,
 * recently cached providers and modules, and copy-paste client
 * configuration for this server's public URL. `GET /ca.pem` hands out the
 * self-signed CA (404 when regcache has none). Both answer HEAD.
 *
 * The recent list comes from store scans (see status-recent.ts); the page
 * blocks on one only the first time it needs it.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { RegcacheError } from '../core/errors.js';
import type { Stats } from '../ops/stats.js';
import type { UsageTracker } from '../ops/usage.js';
import type { Endpoint } from './endpoint.js';
import { sendBody } from './respond.js';
import { createRecentTracker } from './status-recent.js';
import { renderStatusPage, STYLE_HASH } from './status-render.js';
import type { MountedInstance } from '../mirrors/mode.js';

/** What the status page shows. */
export interface StatusPageDeps {
  version: string;
  /** Path of the self-signed CA certificate; undefined with configured or no TLS. */
  caPath: string | undefined;
  /** The store backend's kind ("fs", "s3"). */
  storeKind: string;
  /** The running instances: each has a section with its client configuration. */
  instances: readonly MountedInstance[];
  stats: Stats;
  usage: UsageTracker;
}

const HTML_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': `default-src 'none'; style-src ${STYLE_HASH}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Fetching and trusting the self-signed CA. */
function caSnippet(base: string): string {
  return [
    `curl -fsSk -o regcache-ca.pem ${base}/ca.pem`,
    'openssl x509 -noout -fingerprint -sha256 -in regcache-ca.pem   # compare with the fingerprint above',
    'export SSL_CERT_FILE="$PWD/regcache-ca.pem"',
  ].join('\n');
}

/** Creates the status page endpoints. */
export function createStatusPage(deps: StatusPageDeps): Endpoint[] {
  const get = (m: string): boolean => m === 'GET' || m === 'HEAD';
  const recent = createRecentTracker(deps.instances, deps.usage);
  let fingerprint: Promise<string | undefined> | undefined;
  const caPath = deps.caPath;
  const caFingerprint = (): Promise<string | undefined> =>
    caPath === undefined
      ? Promise.resolve(undefined)
      : (fingerprint ??= readFile(caPath, 'utf8').then(
          (pem) => new X509Certificate(pem).fingerprint256,
          () => undefined,
        ));

  return [
    {
      name: 'status',
      match: (m, s) => get(m) && s.length === 0,
      async handle({ req, res, baseUrl }) {
        const base = baseUrl.replace(/\/+$/, '');
        const [listed, fp] = await Promise.all([recent(), caFingerprint()]);
        const page = renderStatusPage({
          version: deps.version,
          now: Date.now(),
          stats: await deps.stats.snapshot(),
          storeKind: deps.storeKind,
          recent: listed,
          usage: deps.usage.current(),
          baseUrl: base,
          sections: deps.instances.map((i) => ({ instance: i.name, mode: i.mode, ...i.instance.status(listenerBase(base, i.bind)) })),
          ca: caPath === undefined ? undefined : caSnippet(base),
          caFingerprint: fp,
        });
        return { bytes: sendBody(req, res, 200, 'text/html; charset=utf-8', Buffer.from(page, 'utf8'), HTML_HEADERS) };
      },
    },
    {
      name: 'status-ca',
      match: (m, s) => get(m) && s.length === 1 && s[0] === 'ca.pem',
      async handle({ req, res }) {
        if (caPath === undefined) throw new RegcacheError('ERR_NOT_FOUND', 'no self-signed CA: regcache uses a configured certificate or plain HTTP');
        const pem = await readFile(caPath);
        return { bytes: sendBody(req, res, 200, 'application/x-pem-file', pem, { 'cache-control': 'no-cache', 'content-disposition': 'attachment; filename="regcache-ca.pem"' }) };
      },
    },
  ];
}

/**
 * The base URL a client uses for an instance on a listener of its own
 * (`bind`): the page's scheme and host with that listener's port. An
 * instance with `display_url` still names that one itself.
 */
export function listenerBase(base: string, bind: string | undefined): string {
  if (bind === undefined) return base;
  const port = /:(\d{1,5})$/.exec(bind)?.[1];
  if (port === undefined) return base;
  const url = new URL(base);
  url.port = port;
  return url.origin;
}
