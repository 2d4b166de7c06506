/**
 * The listener's TLS material from the configuration: none (`tls: false`),
 * the configured PEM files, or the self-signed CA and server certificate
 * made on first start under `<storage.path>/tls`. Kept apart from the app so
 * the primary of `server.workers` can make the certificate once before it
 * forks, without loading the server's modules.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ListenerTls } from './server.js';

/** Reads or makes the TLS material; `caPath` is set when it is self-signed. */
export async function resolveTls(config: Config, log: Logger, host: string): Promise<{ tls: ListenerTls; caPath: string | undefined }> {
  const t = config.server.tls;
  if (t === false) return { tls: undefined, caPath: undefined };
  if (t) return { tls: { cert: await readFile(t.cert, 'utf8'), key: await readFile(t.key, 'utf8') }, caPath: undefined };
  const names = new Set(['localhost', '127.0.0.1', '::1', hostname()]);
  if (host !== '0.0.0.0' && host !== '::') names.add(host);
  if (config.server.publicUrl) names.add(new URL(config.server.publicUrl).hostname.replace(/^\[|\]$/g, ''));
  const { ensureSelfSignedTls } = await import('./self-signed.js');
  const s = await ensureSelfSignedTls(join(config.storage.path, 'tls'), [...names]);
  log.info({ caPath: s.caPath, created: s.created }, 'self-signed TLS in use: clients must trust this CA');
  return { tls: { cert: s.certPem, key: s.keyPem }, caPath: s.caPath };
}
