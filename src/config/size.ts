/**
 * Human byte sizes for configuration ("8MiB", "50GiB") so limits are written
 * the way operators think about them. Decimal (KB = 1000) and binary
 * (KiB = 1024) units are both accepted because both are in common use.
 */

const UNIT_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

const SIZE = /^(\d+)(?: ?([KMGT]i?B|B))?$/;

/**
 * Parses "512", "512B", "10KiB", "50MiB", "1TiB", "10KB", "1GB" into bytes.
 * Integers only; one optional space before the unit; units are
 * case-sensitive so "mb" (millibits?) is rejected rather than guessed.
 * @throws RangeError naming the offending text.
 */
export function parseSize(text: string): number {
  const match = SIZE.exec(text);
  const multiplier = match === null ? undefined : UNIT_BYTES[match[2] ?? 'B'];
  const bytes = match === null || multiplier === undefined ? NaN : Number(match[1]) * multiplier;
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`invalid size ${JSON.stringify(text)}`);
  return bytes;
}

/** Formats bytes for logs with the largest exact binary unit, e.g. 8388608 → "8MiB". */
export function formatSize(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    const size = UNIT_BYTES[unit] ?? 1;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
