/**
 * Repacks a module's .tar.gz as a deterministic zip, the form OpenTofu's
 * `oci://` module packages take (one `archive/zip` layer): the same tarball
 * always gives the same zip bytes (tar order kept, fixed 1980-01-01 times,
 * deflate level 9, Unix modes), so its digest is stable across processes.
 * Regular files and directories only; links, absolute paths and `..` are
 * refused, as are archives beyond the inflate limits or zip's 32-bit sizes.
 * Understands ustar prefixes, pax `path` records and GNU long names.
 */
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import { RegcacheError } from '../../core/errors.js';

const BLOCK = 512;
const DOS_DATE_1980 = 0x21;
const UTF8_FLAG = 0x0800;
const MAX32 = 0xffffffff;

/** Bounds on what a tarball may unpack to. */
export interface RepackLimits {
  maxInflatedBytes: number;
  maxEntries: number;
}

interface Entry {
  name: string;
  mode: number;
  dir: boolean;
  data: Buffer;
}

const bad = (msg: string): RegcacheError => new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `module archive: ${msg}`);

function text(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? s.length : nul).toString('utf8');
}

function octal(b: Buffer, start: number, len: number): number {
  const v = text(b, start, len).trim();
  if (v === '') return 0;
  if (!/^[0-7]+$/.test(v)) throw bad('invalid tar number');
  return parseInt(v, 8);
}

function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
  let rest = data.toString('utf8');
  while (rest.length > 0) {
    const sp = rest.indexOf(' ');
    const len = Number(rest.slice(0, sp));
    if (sp < 0 || !Number.isInteger(len) || len <= sp) throw bad('invalid pax header');
    const record = rest.slice(sp + 1, len - 1);
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    rest = rest.slice(len);
  }
  return path;
}

function safeName(raw: string, dir: boolean): string {
  const name = raw.replace(/^\.\//, '').replace(/\/+$/, '');
  if (name === '' || name === '.') return '';
  if (name.startsWith('/') || name.split('/').some((p) => p === '..' || p === '') || name.includes('\\')) throw bad(`unsafe path ${JSON.stringify(raw.slice(0, 100))}`);
  return dir ? `${name}/` : name;
}

/** Reads a gzipped tarball's files and directories in order. */
export function readTarGz(gz: Buffer, limits: RepackLimits): Entry[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: limits.maxInflatedBytes });
  } catch {
    throw bad('not a gzip stream within the inflate limit');
  }
  const out: Entry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] ?? 0);
    const start = off + BLOCK;
    if (start + size > tar.length) throw bad('truncated tar');
    const data = tar.subarray(start, start + size);
    off = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L') {
      longName = type === 'x' ? paxPath(data) : text(data, 0, data.length);
      continue;
    }
    if (type === 'g') continue;
    const prefix = text(h, 257, 6) === 'ustar' ? text(h, 345, 155) : '';
    const raw = longName ?? (prefix === '' ? text(h, 0, 100) : `${prefix}/${text(h, 0, 100)}`);
    longName = undefined;
    const dir = type === '5';
    if (!dir && type !== '0' && type !== '\0') throw bad(`entry type ${JSON.stringify(type)} (links) not supported`);
    const name = safeName(raw, dir);
    if (name === '') continue;
    out.push({ name, mode: octal(h, 100, 8) & 0o7777, dir, data });
    if (out.length > limits.maxEntries) throw bad('too many entries');
  }
  return out;
}

/** The deterministic zip of the entries. */
export function zipEntries(entries: readonly Entry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const deflated = e.dir ? Buffer.alloc(0) : deflateRawSync(e.data, { level: 9 });
    const method = e.dir || deflated.length >= e.data.length ? 0 : 8;
    const body = method === 8 ? deflated : e.data;
    const crc = e.dir ? 0 : crc32(e.data);
    if (body.length > MAX32 || e.data.length > MAX32 || offset > MAX32) throw bad('too large for a zip without zip64');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(DOS_DATE_1980, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE_1980, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    const unixMode = (e.dir ? 0o040000 : 0o100000) | (e.mode || (e.dir ? 0o755 : 0o644));
    central.writeUInt32LE(((unixMode << 16) | (e.dir ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  if (entries.length > 0xffff) throw bad('too many entries for a zip without zip64');
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
