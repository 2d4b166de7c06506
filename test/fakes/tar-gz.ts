/**
 * A minimal, deterministic ustar + gzip writer so the fake origin can serve
 * module archives without a tar dependency. Regular files only.
 */
import { gzipSync } from 'node:zlib';

/** One regular file to put in the archive. */
export interface TarEntry {
  name: string;
  content: Buffer;
  mode?: number;
}

const BLOCK = 512;
/** 2024-01-01T00:00:00Z, so archives are byte-identical across runs. */
const FIXED_MTIME = 1704067200;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar field too long: ${value}`);
  bytes.copy(header, offset);
}

/** Octal, zero-padded to `length - 1` digits and NUL-terminated, as ustar wants. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

function tarHeader(entry: TarEntry): Buffer {
  const header = Buffer.alloc(BLOCK);
  writeString(header, 0, 100, entry.name);
  writeOctal(header, 100, 8, entry.mode ?? 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, entry.content.length);
  writeOctal(header, 136, 12, FIXED_MTIME);
  header.fill(' ', 148, 156);
  writeString(header, 156, 1, '0');
  writeString(header, 257, 6, 'ustar\0');
  writeString(header, 263, 2, '00');
  writeOctal(header, 329, 8, 0);
  writeOctal(header, 337, 8, 0);
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

/** Builds a gzip-compressed ustar archive holding `entries` in order. */
export function makeTarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(tarHeader(entry), entry.content);
    const pad = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** The module package the origin serves for a version: one `main.tf` echoing it. */
export function makeModuleTarGz(version: string): Buffer {
  const mainTf = `output "version" { value = "${version}" }\n`;
  return makeTarGz([{ name: 'main.tf', content: Buffer.from(mainTf) }]);
}
