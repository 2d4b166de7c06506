/**
 * Human durations for configuration ("10m", "1h30m", "7d") so operators never
 * have to count zeros of milliseconds, and a formatter for log lines.
 */

const UNIT_MS = {
  w: 7 * 24 * 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
  h: 60 * 60 * 1000,
  m: 60 * 1000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000001,
} as const;

type Unit = keyof typeof UNIT_MS;

/** Largest to smallest: a duration must list its units in this order, each at most once. */
const UNIT_ORDER: readonly Unit[] = ['w', 'd', 'h', 'm', 's', 'ms', 'us', 'µs', 'ns'];

const PART = /(\d+(?:\.\d+)?)(ms|us|µs|ns|w|d|h|m|s)/y;

/**
 * Parses "500ms", "10s", "10m", "1h30m", "7d", "2w" or "0" into milliseconds,
 * and Go's durations as cache-proxy files write them ("1.5h", "250us"),
 * rounded to the millisecond. Units largest-first and not repeated, no sign,
 * no spaces: anything looser hides typos like "10x" or "-1m".
 * @throws RangeError naming the offending text.
 */
export function parseDuration(text: string): number {
  const invalid = new RangeError(`invalid duration ${JSON.stringify(text)}`);
  if (text === '0') return 0;
  if (text.length === 0) throw invalid;
  let total = 0;
  let lastRank = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (match === null) throw invalid;
    const unit = match[2] as Unit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastRank) throw invalid;
    lastRank = rank;
    total += Number(match[1]) * UNIT_MS[unit];
  }
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw invalid;
  return ms;
}

/**
 * Formats milliseconds for logs, e.g. 5_400_000 → "1h30m", 1500 → "1s500ms".
 * Uses days as the largest unit because "14d" reads better than "2w".
 * The output is accepted by parseDuration for non-negative integers.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0';
  let out = '';
  for (const unit of UNIT_ORDER) {
    if (unit === 'w' || UNIT_MS[unit] < 1) continue;
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
