import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureSelfSignedTls, generateCa, issueServerCert, type CaBundle } from '../../src/http/self-signed.js';

function get(port: number, host: string, ca: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const servername = host === '127.0.0.1' ? '' : host;
    const options = { host: '127.0.0.1', servername, port, path: '/', ca, agent: false, headers: { host } };
    const req = https.get(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

void describe('self-signed TLS', () => {
  let ca: CaBundle;
  let server: https.Server;
  let port: number;

  before(async () => {
    ca = await generateCa('regcache test CA');
    const leaf = await issueServerCert(ca, ['127.0.0.1', 'localhost', '::1']);
    server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  void it('generates a CA with the expected constraints', () => {
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    const years = (new Date(cert.validTo).getTime() - Date.now()) / (365 * 24 * 3600 * 1000);
    assert.ok(years > 9.9 && years < 10.1);
  });

  void it('issues a leaf with SANs, a positive serial and serverAuth', async () => {
    const leaf = new X509Certificate((await issueServerCert(ca, ['example.test', '10.1.2.3', '[fe80::1]'], 5)).certPem);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.subjectAltName, 'DNS:example.test, IP Address:10.1.2.3, IP Address:FE80:0:0:0:0:0:0:1');
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.ok(Number.parseInt(leaf.serialNumber.slice(0, 2), 16) < 0x80);
    assert.ok(leaf.checkIssued(new X509Certificate(ca.certPem)));
  });

  void it('is trusted for 127.0.0.1 and localhost by a client that trusts only the CA', async () => {
    assert.equal(await get(port, '127.0.0.1', ca.certPem), 'ok');
    assert.equal(await get(port, 'localhost', ca.certPem), 'ok');
  });

  void it('is rejected by a client that does not trust the CA', async () => {
    await assert.rejects(get(port, 'localhost', undefined), /self[- ]signed|unable to (get|verify)/i);
    const other = await generateCa('someone else');
    await assert.rejects(get(port, 'localhost', other.certPem), /unable to (get|verify)/i);
  });

  void it('rejects a name missing from the SANs', async () => {
    await assert.rejects(get(port, 'example.com', ca.certPem), /altnames|Hostname/i);
  });
});

void describe('ensureSelfSignedTls', () => {
  let dir: string;

  before(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'regcache-tls-')), 'nested', 'tls');
  });

  after(async () => {
    await rm(join(dir, '..', '..'), { recursive: true, force: true });
  });

  void it('creates files once with private modes, then reuses them', async () => {
    const first = await ensureSelfSignedTls(dir, ['127.0.0.1', 'localhost']);
    assert.equal(first.created, true);
    assert.equal(first.caPath, join(dir, 'ca.pem'));
    assert.equal((await stat(join(dir, 'ca-key.pem'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'server-key.pem'))).mode & 0o777, 0o600);
    const caBytes = await readFile(first.caPath, 'utf8');

    const second = await ensureSelfSignedTls(dir, ['localhost', '127.0.0.1']);
    assert.equal(second.created, false);
    assert.equal(second.renewed, false);
    assert.equal(second.caPem, caBytes);
    assert.equal(await readFile(first.caPath, 'utf8'), caBytes);
    assert.equal(second.certPem, first.certPem);
  });

  void it('reissues the server cert with the same CA when names change', async () => {
    const before = await readFile(join(dir, 'server.pem'), 'utf8');
    const next = await ensureSelfSignedTls(dir, ['127.0.0.1', 'localhost', 'mirror.internal']);
    assert.equal(next.created, false);
    assert.equal(next.renewed, true);
    assert.notEqual(next.certPem, before);
    const leaf = new X509Certificate(next.certPem);
    assert.ok(leaf.checkHost('mirror.internal'));
    assert.ok(leaf.checkIssued(new X509Certificate(next.caPem)));
  });

  void it('reissues the server cert when it expires within 30 days', async () => {
    const ca: CaBundle = {
      certPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
      keyPem: await readFile(join(dir, 'ca-key.pem'), 'utf8'),
    };
    const shortLived = await issueServerCert(ca, ['127.0.0.1', 'localhost'], 10);
    await writeFile(join(dir, 'server.pem'), shortLived.certPem);
    await writeFile(join(dir, 'server-key.pem'), shortLived.keyPem);
    const next = await ensureSelfSignedTls(dir, ['127.0.0.1', 'localhost']);
    assert.equal(next.renewed, true);
    assert.equal(next.caPem, ca.certPem);
    assert.ok(new Date(new X509Certificate(next.certPem).validTo).getTime() - Date.now() > 300 * 24 * 3600 * 1000);
  });
});
