/**
 * Debian's `docker-registry` (CNCF distribution 2.8) as the tests' upstream:
 * started on a loopback port with a generated config.yml, filesystem
 * storage in a temp dir, and token auth whose realm is given by the caller
 * (the relay's `/token`, so the realm shares the upstream's origin).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running registry. */
export interface OciRegistry {
  url: string;
  host: string;
  dir: string;
  output(): string;
  close(): Promise<void>;
}

/** A free loopback port (closed again before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Token auth settings of the registry. */
export interface RegistryTokenAuth {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
}

/** Starts `docker-registry serve` and waits until it answers /v2/ (401 with token auth). */
export async function startOciRegistry(auth: RegistryTokenAuth): Promise<OciRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-oci-registry-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    'auth:',
    '  token:',
    `    realm: ${auth.realm}`,
    `    service: ${auth.service}`,
    `    issuer: ${auth.issuer}`,
    `    rootcertbundle: ${auth.certFile}`,
    '',
  ].join('\n');
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, config);
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited:\n${text}`);
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error(`docker-registry did not start:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    dir,
    output: () => text,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
