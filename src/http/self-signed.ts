/**
 * Self-signed TLS for regcache. Terraform only talks to mirrors over https,
 * so a fresh install needs a certificate before any real one is configured:
 * we mint a private CA once (operators trust `ca.pem`) and issue a server
 * certificate from it, renewing the leaf silently while the CA stays stable.
 */
import { X509Certificate as NodeX509, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

/**
 * @peculiar/x509 (about 13 MB of RSS and 200 ms to import) is needed only
 * to mint certificates; checking existing ones uses node:crypto.
 */
const x509lib = (): Promise<typeof import('@peculiar/x509')> => import('@peculiar/x509');

/** A CA certificate with its private key, both PEM; the key is PKCS#8. */
export interface CaBundle {
  certPem: string;
  keyPem: string;
}

/** A server certificate and its PKCS#8 key, ready for `tls.createServer`. */
export interface ServerCert {
  certPem: string;
  keyPem: string;
}

/** What `ensureSelfSignedTls` hands the HTTP server and the operator. */
export interface SelfSignedTls extends ServerCert {
  caPem: string;
  /** Where clients find the CA to trust (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS). */
  caPath: string;
  /** True when a new CA was generated: clients must be told to trust it. */
  created: boolean;
  /** True when the server certificate was (re)issued by this call. */
  renewed: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_YEARS = 10;
const DEFAULT_LEAF_DAYS = 365;
const RENEW_BEFORE_MS = 30 * DAY_MS;
/** Backdating tolerates clients whose clocks run a little behind ours. */
const BACKDATE_MS = 60 * 60 * 1000;
const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

const crypto = webcrypto;
type CryptoKey = webcrypto.CryptoKey;

/** Positive 128-bit serial: Go rejects negative serials, so the top bit is clear. */
function positiveSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

async function newKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

async function pemToSigningKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return crypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
}

/** Escapes characters that are special in RFC 4514 names. */
function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=#]/g, (c) => `\\${c}`);
}

/** Strips `[...]` around IPv6 literals so `[::1]` and `::1` mean the same. */
function normalizeName(name: string): string {
  const trimmed = name.trim();
  return trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
}

/** Generates a long-lived P-256 CA that signs regcache's server certificates. */
export async function generateCa(commonName: string): Promise<CaBundle> {
  const x509 = await x509lib();
  const keys = await newKeyPair();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(notBefore.getTime() + CA_YEARS * 365 * DAY_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: positiveSerial(),
      name: `CN=${escapeDnValue(commonName)}`,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}

/**
 * Issues a TLS server certificate for `names` (DNS names and IPv4/IPv6
 * literals), signed by `ca`. Every name goes into the SAN extension because
 * Go (Terraform) ignores the subject CN.
 */
export async function issueServerCert(ca: CaBundle, names: string[], days = DEFAULT_LEAF_DAYS): Promise<ServerCert> {
  const cleaned = [...new Set(names.map(normalizeName).filter((n) => n.length > 0))];
  const first = cleaned[0];
  if (first === undefined) throw new Error('issueServerCert needs at least one name');
  const x509 = await x509lib();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await pemToSigningKey(ca.keyPem);
  const keys = await newKeyPair();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const notAfter = new Date(Date.now() + days * DAY_MS);
  const san = cleaned.map((value) => ({ type: isIP(value) === 0 ? ('dns' as const) : ('ip' as const), value }));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: positiveSerial(),
      subject: `CN=${escapeDnValue(first)}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(san, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}

/** Writes via a temp file and rename so a crash never leaves half a PEM. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseCert(pem: string): NodeX509 | undefined {
  try {
    return new NodeX509(pem);
  } catch {
    return undefined;
  }
}

function expiresSoon(cert: NodeX509): boolean {
  return new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS;
}

function keyMatches(cert: NodeX509, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function coversNames(cert: NodeX509, names: string[]): boolean {
  return names.map(normalizeName).every((name) =>
    isIP(name) === 0 ? cert.checkHost(name, { subject: 'never' }) !== undefined : cert.checkIP(name) !== undefined,
  );
}

/** Loads the stored CA when it is complete, consistent and not about to expire. */
async function loadCa(caPath: string, caKeyPath: string): Promise<CaBundle | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(caPath), readOptional(caKeyPath)]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  const cert = parseCert(certPem);
  if (cert === undefined || !cert.ca || expiresSoon(cert) || !keyMatches(cert, keyPem)) return undefined;
  return { certPem, keyPem };
}

/** Loads the stored server certificate when it still fits the CA and `names`. */
async function loadServer(
  ca: CaBundle,
  certPath: string,
  keyPath: string,
  names: string[],
): Promise<ServerCert | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  const cert = parseCert(certPem);
  const caCert = parseCert(ca.certPem);
  if (cert === undefined || caCert === undefined) return undefined;
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return undefined;
  if (expiresSoon(cert) || !keyMatches(cert, keyPem) || !coversNames(cert, names)) return undefined;
  return { certPem, keyPem };
}

/**
 * Makes sure `dir` holds a CA and a server certificate for `names`, creating
 * them on first start and reusing them afterwards so clients keep trusting
 * the same CA. The server certificate is reissued (same CA) when it nears
 * expiry or no longer covers `names`.
 */
export async function ensureSelfSignedTls(dir: string, names: string[]): Promise<SelfSignedTls> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withDirLock(join(dir, '.lock'), () => ensureLocked(dir, names));
}

/**
 * Several processes may share a storage directory and start together: one
 * of them creates the CA while the others wait, so all serve certificates
 * from the same CA. A lock left by a crashed process expires after 30 s.
 */
async function withDirLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 30_000) await rm(lock, { recursive: true, force: true });
      else if (i > 600) throw new Error(`TLS directory stays locked: ${lock}`);
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function ensureLocked(dir: string, names: string[]): Promise<SelfSignedTls> {
  const caPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca-key.pem');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server-key.pem');

  let ca = await loadCa(caPath, caKeyPath);
  const created = ca === undefined;
  if (ca === undefined) {
    ca = await generateCa('regcache local CA');
    await writeAtomic(caKeyPath, ca.keyPem, 0o600);
    await writeAtomic(caPath, ca.certPem, 0o644);
  }

  let server = created ? undefined : await loadServer(ca, certPath, keyPath, names);
  const renewed = server === undefined;
  if (server === undefined) {
    server = await issueServerCert(ca, names);
    await writeAtomic(keyPath, server.keyPem, 0o600);
    await writeAtomic(certPath, server.certPem, 0o644);
  }

  return { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem, caPath, created, renewed };
}
