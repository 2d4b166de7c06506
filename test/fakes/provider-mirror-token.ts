/**
 * A token realm of the test's own for `docker-registry`'s token
 * authentication (distribution 2.8 `auth.token`): ES256 JWTs whose `x5c`
 * names a self-signed certificate the registry trusts (`rootcertbundle`).
 * Who gets what is the test's rule: `Basic admin:secret` may push and pull
 * everything; an anonymous request gets pull only on repositories the rule
 * calls public. Every request is recorded with its Authorization, so a test
 * can show which credentials reached the realm.
 */
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCa } from '../../src/http/self-signed.js';

/** One access entry of a token. */
export interface TokenAccess {
  type: 'repository';
  name: string;
  actions: string[];
}

/** A running realm. */
export interface TokenServer {
  /** The realm URL (http://127.0.0.1:port/token). */
  realm: string;
  service: string;
  issuer: string;
  /** PEM file the registry's `rootcertbundle` names. */
  certFile: string;
  /** The Authorization headers of every token request (undefined: anonymous). */
  requests: Array<{ authorization: string | undefined; scope: string }>;
  /** Mints a token directly (what a client would have been given). */
  issue(access: TokenAccess[], ttlS?: number): string;
  /** The `Authorization` header the admin pushes with for `repo`. */
  pushAuthorization(repo: string): Promise<string>;
  stop(): Promise<void>;
}

const ADMIN = `Basic ${Buffer.from('admin:secret').toString('base64')}`;
const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** Starts the realm; `isPublic(repo)` says which repositories anonymous clients may pull. */
export async function startTokenServer(isPublic: (repo: string) => boolean): Promise<TokenServer> {
  const ca = await generateCa('regcache test token signer');
  const dir = await mkdtemp(join(tmpdir(), 'regcache-token-'));
  const certFile = join(dir, 'token-signer.pem');
  await writeFile(certFile, ca.certPem);
  const key = createPrivateKey(ca.keyPem);
  const x5c = new X509Certificate(ca.certPem).raw.toString('base64');
  const service = 'regcache-test-registry';
  const issuer = 'regcache-test-token-issuer';
  const requests: TokenServer['requests'] = [];

  function issue(access: TokenAccess[], ttlS = 300): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [x5c] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: 'test', aud: service, exp: now + ttlS, nbf: now - 60, iat: now - 60, jti: randomBytes(12).toString('hex'), access }));
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    return `${header}.${claims}.${b64url(signature)}`;
  }

  function grant(scope: string, admin: boolean): TokenAccess[] {
    const out: TokenAccess[] = [];
    for (const s of scope.split(' ')) {
      const [type, name, actions] = s.split(':');
      if (type !== 'repository' || name === undefined || actions === undefined) continue;
      const asked = actions.split(',');
      const allowed = admin ? asked : isPublic(name) ? asked.filter((a) => a === 'pull') : [];
      out.push({ type: 'repository', name, actions: allowed });
    }
    return out;
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const authorization = req.headers.authorization;
    const scope = url.searchParams.getAll('scope').join(' ');
    requests.push({ authorization, scope });
    if (url.pathname !== '/token' || url.searchParams.get('service') !== service) {
      res.writeHead(404).end();
      return;
    }
    if (authorization !== undefined && authorization !== ADMIN) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const token = issue(grant(scope, authorization === ADMIN));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const realm = `http://127.0.0.1:${port}/token`;
  return {
    realm,
    service,
    issuer,
    certFile,
    requests,
    issue,
    async pushAuthorization(repo) {
      const res = await fetch(`${realm}?service=${service}&scope=repository:${repo}:pull,push`, { headers: { authorization: ADMIN } });
      const body = (await res.json()) as { token: string };
      return `Bearer ${body.token}`;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
