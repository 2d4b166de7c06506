/**
 * Real Python distributions for the `pypi` tests: wheels (zip via yazl with
 * `.dist-info/METADATA`, `WHEEL` and a `RECORD` of every file's sha256)
 * that pip installs, and sdists (`.tar.gz` with `PKG-INFO`). Deterministic
 * bytes for a given name, version and dependency list.
 */
import { createHash } from 'node:crypto';
import yazl from 'yazl';
import { makeTarGz } from './tar-gz.js';

/** A built distribution file. */
export interface Dist {
  filename: string;
  body: Buffer;
  sha256: string;
  /** The wheel's METADATA (the PEP 658 sidecar), for wheels. */
  metadata?: Buffer;
}

const MTIME = new Date('2024-01-01T00:00:00Z');

/** The wheel file name component of a project name (PEP 427: runs of -_. → _). */
export function wheelName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}

function metadataText(name: string, version: string, requires: readonly string[]): Buffer {
  const lines = ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, 'Summary: regcache test package', ...requires.map((r) => `Requires-Dist: ${r}`)];
  return Buffer.from(`${lines.join('\n')}\n\n`);
}

const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function zip(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [path, body] of entries) z.addBuffer(body, path, { mtime: MTIME, mode: 0o100644 });
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('error', reject);
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** A py3-none-any wheel installing module `<wheelName>` whose `__version__` is `version`. */
export async function buildWheel(name: string, version: string, requires: readonly string[] = []): Promise<Dist> {
  const mod = wheelName(name);
  const info = `${mod}-${version}.dist-info`;
  const metadata = metadataText(name, version, requires);
  const files: Array<[string, Buffer]> = [
    [`${mod}/__init__.py`, Buffer.from(`__version__ = "${version}"\n`)],
    [`${info}/METADATA`, metadata],
    [`${info}/WHEEL`, Buffer.from('Wheel-Version: 1.0\nGenerator: regcache-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n')],
  ];
  const record = files.map(([p, b]) => `${p},sha256=${createHash('sha256').update(b).digest('base64url')},${b.length}`);
  record.push(`${info}/RECORD,,`);
  files.push([`${info}/RECORD`, Buffer.from(`${record.join('\n')}\n`)]);
  const body = await zip(files);
  return { filename: `${mod}-${version}-py3-none-any.whl`, body, sha256: hex(body), metadata };
}

/** An sdist (`<name>-<version>.tar.gz` with PKG-INFO and a setup.py). */
export function buildSdist(name: string, version: string, requires: readonly string[] = []): Dist {
  const dir = `${wheelName(name)}-${version}`;
  const body = makeTarGz([
    { name: `${dir}/PKG-INFO`, content: metadataText(name, version, requires) },
    { name: `${dir}/setup.py`, content: Buffer.from(`from setuptools import setup\nsetup(name=${JSON.stringify(name)}, version=${JSON.stringify(version)})\n`) },
  ]);
  return { filename: `${dir}.tar.gz`, body, sha256: hex(body) };
}
