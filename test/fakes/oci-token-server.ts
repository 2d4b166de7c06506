/**
 * A registry token server of the tests' own (distribution's "token
 * authentication" spec): `GET /token?service=…&scope=repository:<name>:<actions>`
 * answers `{ token, access_token, expires_in }` with an ES256 JWT signed by
 * a key whose self-signed certificate the registry trusts
 * (`auth.token.rootcertbundle`; the JWT names the key by its libtrust key
 * id). Anonymous clients may pull any repository outside `private/`;
 * `users` grants listed actions everywhere. Counts token requests (with and
 * without credentials) and may refuse them all (`down`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A running token server. */
export interface OciTokenServer {
  url: string;
  /** The certificate file the registry's `rootcertbundle` names. */
  certFile: string;
  service: string;
  issuer: string;
  /** Token requests so far: all, and those that carried credentials. */
  counts(): { all: number; withCredentials: number };
  /** Lifetime of the tokens handed out (seconds). */
  expiresIn: number;
  close(): Promise<void>;
}

/** Users the server knows: name → password and whether they may push. */
export type TokenUsers = Record<string, { password: string; push: boolean }>;

/** libtrust's key id: the first 240 bits of the SHA-256 of the DER public key, base32, in groups of four. */
function libtrustKeyId(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of hash) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return (out.match(/.{4}/g) ?? []).join(':');
}

const b64url = (v: Buffer | string): string => Buffer.from(v).toString('base64url');

/** Starts the server; key and certificate are written to `dir`. */
export async function startOciTokenServer(dir: string, users: TokenUsers): Promise<OciTokenServer> {
  const keyFile = join(dir, 'token-key.pem');
  const certFile = join(dir, 'token-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=regcache-test-token'], { stdio: 'ignore' });
  const privateKey = createPrivateKey(readFileSync(keyFile));
  const kid = libtrustKeyId(createPublicKey(privateKey));
  const service = 'regcache-test-registry';
  const issuer = 'regcache-test-issuer';
  let all = 0;
  let withCredentials = 0;
  const state = { expiresIn: 300 };

  const jwt = (sub: string, access: Array<{ type: string; name: string; actions: string[] }>): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', kid }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub, aud: service, exp: now + state.expiresIn, nbf: now - 60, iat: now, jti: randomUUID(), access }));
    const sig = sign('sha256', Buffer.from(`${header}.${claims}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${header}.${claims}.${b64url(sig)}`;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    all++;
    let user: string | undefined;
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      withCredentials++;
      const m = /^Basic (.+)$/.exec(auth);
      const [name, password] = m ? Buffer.from(m[1] ?? '', 'base64').toString().split(':') : [];
      const known = name !== undefined ? users[name] : undefined;
      if (!known || known.password !== password) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = name;
    }
    const access: Array<{ type: string; name: string; actions: string[] }> = [];
    for (const scope of url.searchParams.getAll('scope')) {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || name === undefined || actions === undefined) continue;
      const wanted = actions.split(',');
      const granted = user !== undefined ? wanted.filter((a) => a === 'pull' || users[user]?.push === true) : name.startsWith('private/') ? [] : wanted.filter((a) => a === 'pull');
      access.push({ type, name, actions: granted });
    }
    const token = jwt(user ?? '', access);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: state.expiresIn, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(join(dir, 'token-kid.txt'), kid);
  return {
    url: `http://127.0.0.1:${port}`,
    certFile,
    service,
    issuer,
    counts: () => ({ all, withCredentials }),
    get expiresIn() {
      return state.expiresIn;
    },
    set expiresIn(v: number) {
      state.expiresIn = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
