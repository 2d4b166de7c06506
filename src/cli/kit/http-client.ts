/**
 * HTTP for the client commands: JSON calls to regcache and package
 * downloads to a file, over undici with an optional extra CA. Errors become
 * CommandErrors that say what to fix (a token, a CA, the URL) and never
 * contain a request header.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { CommandError } from './tool-io.js';

/** Who a request authenticates as, for the header and for what a 401 means. */
export type Auth = { kind: 'admin'; token: string } | { kind: 'client'; token: string | undefined };

/** One JSON call. */
export interface JsonCall {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: string;
  contentType?: string;
  auth: Auth;
}

/** The client. */
export interface HttpClient {
  /** Sends a request and parses a 2xx JSON answer; anything else throws a CommandError. */
  json(url: URL, call: JsonCall): Promise<unknown>;
  /** Streams a 200 body into `file`; returns its SHA-256 (hex) and size. */
  download(url: URL, file: string): Promise<{ sha256: string; bytes: number }>;
  close(): Promise<void>;
}

const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/** Trust: the system roots, NODE_EXTRA_CA_CERTS and `--ca`; undefined keeps Node's defaults. */
async function trustedCas(caFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string[] | undefined> {
  if (caFile === undefined) return undefined;
  const read = (file: string, what: string): Promise<string> =>
    readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new CommandError(`cannot read ${what} ${file}: ${err.code ?? err.message}`);
    });
  const extra = env['NODE_EXTRA_CA_CERTS'];
  const cas = [...rootCertificates];
  if (extra) cas.push(await read(extra, 'NODE_EXTRA_CA_CERTS'));
  const pem = await read(caFile, '--ca');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CommandError(`--ca ${caFile} holds no PEM certificate`);
  cas.push(pem);
  return cas;
}

function networkError(url: URL, err: unknown): CommandError {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  const code = e.code ?? e.cause?.code ?? e.message ?? String(err);
  const hint = TLS_TRUST.test(code) ? ' (the server certificate is not trusted: pass its CA with --ca FILE or NODE_EXTRA_CA_CERTS)' : '';
  return new CommandError(`cannot reach ${url.origin}: ${code}${hint}`);
}

function describeFailure(url: URL, status: number, text: string, auth: Auth): CommandError {
  let detail = text.trim().slice(0, 300);
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(body.errors)) detail = body.errors.map(String).join('; ');
  } catch {
    // not JSON: keep the start of the text
  }
  const where = `${url.pathname}: HTTP ${status}${detail ? ` (${detail})` : ''}`;
  if ((status === 401 || status === 403) && auth.kind === 'admin') {
    return new CommandError(`${where}: the server refused the admin token; check --token or REGCACHE_ADMIN_TOKEN`);
  }
  if ((status === 401 || status === 403) && auth.kind === 'client') {
    return new CommandError(`${where}: ${auth.token === undefined ? 'a private provider? pass --client-token' : 'the server refused --client-token'}`);
  }
  // Without admin.token the admin routes do not exist: GETs are 404, DELETE/POST on other routes 405.
  const adminOff = status === 405 || (status === 404 && url.pathname.includes('/admin/') && !/no such job/.test(detail));
  if (auth.kind === 'admin' && adminOff) {
    return new CommandError(`${where}: is the admin API enabled (admin.token) on this server?`);
  }
  return new CommandError(where);
}

/** Creates a client; `caFile` is `--ca`. */
export async function createHttpClient(caFile: string | undefined, env: NodeJS.ProcessEnv): Promise<HttpClient> {
  const ca = await trustedCas(caFile, env);
  const agent = new Agent({ connect: ca === undefined ? {} : { ca }, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const headersFor = (auth: Auth | undefined, extra: Record<string, string>): Record<string, string> => {
    const headers: Record<string, string> = { 'user-agent': 'regcache-cli', ...extra };
    if (auth?.token !== undefined) headers['authorization'] = `Bearer ${auth.token}`;
    return headers;
  };

  return {
    async json(url, call) {
      let res;
      try {
        res = await request(url, {
          dispatcher: agent,
          method: call.method ?? 'GET',
          headers: headersFor(call.auth, { accept: 'application/json', ...(call.contentType ? { 'content-type': call.contentType } : {}) }),
          ...(call.body === undefined ? {} : { body: call.body }),
        });
      } catch (err) {
        throw networkError(url, err);
      }
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode > 299) throw describeFailure(url, res.statusCode, text, call.auth);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new CommandError(`${url.pathname}: the answer is not JSON (is ${url.origin} a regcache?)`);
      }
    },

    async download(url, file) {
      let res;
      try {
        res = await request(url, { dispatcher: agent, headers: headersFor(undefined, {}) });
      } catch (err) {
        throw networkError(url, err);
      }
      if (res.statusCode !== 200) {
        throw describeFailure(url, res.statusCode, await res.body.text(), { kind: 'client', token: undefined });
      }
      const hash = createHash('sha256');
      let bytes = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      try {
        await pipeline(res.body, count, createWriteStream(file));
      } catch (err) {
        throw new CommandError(`downloading ${url.pathname}: ${(err as Error).message}`);
      }
      return { sha256: hash.digest('hex'), bytes };
    },

    close: () => agent.close(),
  };
}
