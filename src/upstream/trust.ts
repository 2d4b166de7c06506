/**
 * Which CAs outbound TLS trusts: Node's bundled roots, the system bundle
 * when present, NODE_EXTRA_CA_CERTS, and any extra PEMs given. Passing `ca`
 * to undici replaces Node's defaults, so all of them are assembled here once.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Assembles the trusted CA list (read once at start). */
export function loadTrustedCas(extra: string[]): string[] {
  const cas: string[] = [...rootCertificates];
  for (const p of SYSTEM_BUNDLES) {
    const pem = readIfPresent(p);
    if (pem) {
      cas.push(pem);
      break;
    }
  }
  const envFile = process.env.NODE_EXTRA_CA_CERTS;
  if (envFile) {
    const pem = readIfPresent(envFile);
    if (pem) cas.push(pem);
  }
  cas.push(...extra);
  return cas;
}
