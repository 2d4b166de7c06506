/**
 * Builders for Terraform provider release artifacts (zip, SHA256SUMS, its
 * detached signature, the signing key) so tests and benchmarks exercise the
 * real formats instead of hand-written bytes. Output is deterministic for the
 * same inputs, except keys and signatures, which are freshly generated.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createMessage, generateKey, readKey, readPrivateKey, sign } from 'openpgp';
import yazl from 'yazl';

/** What identifies one provider package. */
export interface ProviderZipOptions {
  type: string;
  version: string;
  os: string;
  arch: string;
  /** Deterministic pseudo-random bytes appended to the executable, for large-zip benchmarks. */
  extraBytes?: number;
}

/** A generated OpenPGP key pair, as registries publish and tests sign with. */
export interface SigningKey {
  armoredPublicKey: string;
  armoredPrivateKey: string;
  /** Primary key id, 16 uppercase hex digits. */
  keyId: string;
}

/** Local-time constructor so DOS timestamps are identical in every time zone. */
const FIXED_MTIME = new Date(2024, 0, 1, 0, 0, 0);
const EXECUTABLE_MODE = 0o100755;

/** The executable's name inside a provider zip, as Terraform expects it. */
export function providerExecutableName(type: string, version: string): string {
  return `terraform-provider-${type}_v${version}`;
}

/** The release file name of a provider zip, as listed in SHA256SUMS. */
export function providerZipFilename(opts: ProviderZipOptions): string {
  return `terraform-provider-${opts.type}_${opts.version}_${opts.os}_${opts.arch}.zip`;
}

/**
 * The executable's exact bytes, exported so tests can compute hashes
 * independently of the zip reader under test.
 */
export function providerExecutableContent(opts: ProviderZipOptions): Buffer {
  const script = Buffer.from(
    `#!/bin/sh\necho "terraform-provider-${opts.type} ${opts.version} ${opts.os}_${opts.arch}"\nexit 0\n`,
  );
  const extra = opts.extraBytes ?? 0;
  if (extra <= 0) return script;
  return Buffer.concat([script, deterministicBytes(JSON.stringify([opts.type, opts.version, opts.os, opts.arch]), extra)]);
}

/** Builds a real provider zip holding one executable (mode 0755). */
export function makeProviderZip(opts: ProviderZipOptions): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(providerExecutableContent(opts), providerExecutableName(opts.type, opts.version), {
    mode: EXECUTABLE_MODE,
    mtime: FIXED_MTIME,
    forceDosTimestamp: true,
  });
  return finishZip(zip);
}

/** One entry for makeZip; `null` content makes a directory entry. */
export interface ZipEntrySpec {
  name: string;
  content: Buffer | null;
  /** Deflate the content (default true); false stores it verbatim. */
  compress?: boolean;
  /** Unix mode including file type bits (yazl's default is 0o100664). */
  mode?: number;
}

/** Builds a zip from arbitrary entries, for tests that need odd layouts. */
export function makeZip(entries: ZipEntrySpec[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    if (entry.content === null) {
      zip.addEmptyDirectory(entry.name, { mtime: FIXED_MTIME, forceDosTimestamp: true });
    } else {
      zip.addBuffer(entry.content, entry.name, {
        mtime: FIXED_MTIME,
        forceDosTimestamp: true,
        compress: entry.compress ?? true,
        ...(entry.mode === undefined ? {} : { mode: entry.mode }),
      });
    }
  }
  return finishZip(zip);
}

/** A fresh curve25519 signing key named "regcache test". */
export async function generateSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'regcache test' }],
    format: 'armored',
  });
  const key = await readKey({ armoredKey: publicKey });
  return { armoredPublicKey: publicKey, armoredPrivateKey: privateKey, keyId: key.getKeyID().toHex().toUpperCase() };
}

/** A binary detached signature over `data`, as releases publish SHA256SUMS.sig. */
export async function signDetached(data: Uint8Array, armoredPrivateKey: string): Promise<Uint8Array> {
  const signingKey = await readPrivateKey({ armoredKey: armoredPrivateKey });
  const message = await createMessage({ binary: data });
  const signature: unknown = await sign({ message, signingKeys: signingKey, detached: true, format: 'binary' });
  if (!(signature instanceof Uint8Array)) throw new Error('openpgp returned a non-binary signature');
  return signature;
}

/** SHA256SUMS text in Terraform's release format, sorted by filename. */
export function makeShasums(entries: Array<{ filename: string; bytes: Uint8Array }>): string {
  return [...entries]
    .sort((a, b) => Buffer.compare(Buffer.from(a.filename), Buffer.from(b.filename)))
    .map((e) => `${createHash('sha256').update(e.bytes).digest('hex')}  ${e.filename}\n`)
    .join('');
}

/** AES-256-CTR keystream seeded from `seed`: fast, incompressible, repeatable. */
function deterministicBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(Math.min(length, 1 << 20));
  const chunks: Buffer[] = [];
  for (let left = length; left > 0; left -= zeros.length) {
    chunks.push(cipher.update(zeros.subarray(0, Math.min(left, zeros.length))));
  }
  chunks.push(cipher.final());
  return Buffer.concat(chunks, length);
}

function finishZip(zip: yazl.ZipFile): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.end();
  });
}
