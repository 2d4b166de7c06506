/**
 * IP address classification for the outbound policy: which addresses are
 * not on the public internet (loopback, private, link-local, carrier-grade
 * NAT, cloud metadata, documentation, multicast …), and address blocks an
 * operator may allow. IPv6 forms that carry an IPv4 address (`::ffff:a.b.c.d`,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, the old `::a.b.c.d`) are judged by
 * the IPv4 address they reach, so no spelling of 127.0.0.1 gets through.
 */
import { isIP } from 'node:net';

/** An address block: network bytes (4 or 16) and prefix length. */
export interface AddressBlock {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function v4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return Uint8Array.from(parts.map(Number));
}

function v6Bytes(text: string): Uint8Array | undefined {
  let rest = text;
  const tail: number[] = [];
  const lastColon = rest.lastIndexOf(':');
  const last = rest.slice(lastColon + 1);
  if (last.includes('.')) {
    // A trailing dotted quad is the last two 16-bit words.
    const v4 = v4Bytes(last);
    if (!v4) return undefined;
    tail.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    rest = rest.slice(0, lastColon + 1);
    if (!rest.endsWith('::')) rest = rest.slice(0, -1);
  }
  const halves = rest.split('::');
  if (halves.length > 2) return undefined;
  const words = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out = s.split(':').map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN));
    return out.some(Number.isNaN) ? undefined : out;
  };
  const head = words(halves[0] ?? '');
  const back = halves.length === 2 ? words(halves[1] ?? '') : [];
  if (!head || !back) return undefined;
  const given = head.length + back.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - given).fill(0), ...back, ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

/** The bytes of an IP address (4 or 16), ignoring an IPv6 zone (`%eth0`); undefined when not an address. */
export function addressBytes(text: string): Uint8Array | undefined {
  const address = text.split('%')[0] ?? '';
  const family = isIP(address);
  if (family === 4) return v4Bytes(address);
  if (family === 6) return v6Bytes(address);
  return undefined;
}

/** Parses "10.0.0.0/8", "fd00::/8" or a bare address (one host); undefined when malformed. */
export function parseAddressBlock(text: string): AddressBlock | undefined {
  const [address = '', bits, ...extra] = text.trim().split('/');
  const bytes = addressBytes(address);
  if (!bytes || extra.length > 0) return undefined;
  const max = bytes.length * 8;
  if (bits === undefined) return { bytes, prefix: max };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { bytes, prefix: Number(bits) };
}

/** Whether `bytes` (same family as the block) lies in `block`. */
export function inBlock(bytes: Uint8Array, block: AddressBlock): boolean {
  if (bytes.length !== block.bytes.length) return false;
  for (let bit = 0; bit < block.prefix; bit += 8) {
    const i = bit / 8;
    const take = Math.min(8, block.prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((block.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

const named = (label: string, blocks: string[]): Array<{ label: string; block: AddressBlock }> =>
  blocks.map((b) => {
    const block = parseAddressBlock(b);
    if (!block) throw new Error(`bad built-in address block ${b}`);
    return { label, block };
  });

/** Address ranges that are not the public internet (IANA special-purpose registries), with the word an error names. */
const SPECIAL = [
  ...named('loopback', ['127.0.0.0/8', '::1/128']),
  ...named('unspecified', ['0.0.0.0/8', '::/128']),
  ...named('private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fec0::/10']),
  ...named('carrier-grade NAT', ['100.64.0.0/10']),
  ...named('link-local', ['169.254.0.0/16', 'fe80::/10']),
  ...named('reserved', ['192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4', '100::/64', '2001:db8::/32', '64:ff9b:1::/48']),
  ...named('multicast', ['224.0.0.0/4', 'ff00::/8']),
];

const MAPPED = named('', ['::ffff:0:0/96', '::/96', '64:ff9b::/96']).map((e) => e.block);
const SIX_TO_FOUR = parseAddressBlock('2002::/16');

/** The IPv4 address an IPv6 address carries and reaches (mapped, compatible, NAT64, 6to4), if any. */
export function embeddedV4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16) return undefined;
  if (MAPPED.some((b) => inBlock(bytes, b))) return bytes.slice(12, 16);
  if (SIX_TO_FOUR && inBlock(bytes, SIX_TO_FOUR)) return bytes.slice(2, 6);
  return undefined;
}

/**
 * Why an address is not a public one ("loopback", "private" …), or
 * undefined for a public address. IPv6 spellings of an IPv4 address are
 * judged by that IPv4 address.
 */
export function specialPurpose(bytes: Uint8Array): string | undefined {
  const own = SPECIAL.find((s) => inBlock(bytes, s.block))?.label;
  if (own !== undefined) return own;
  const v4 = embeddedV4(bytes);
  return v4 ? specialPurpose(v4) : undefined;
}
