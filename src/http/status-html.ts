/**
 * Small helpers for the server-rendered status page: an `html` template tag
 * that escapes every interpolated value unless it is markup the tag built
 * itself (so nothing from a request or the store can inject markup), and
 * human-readable numbers, sizes, durations and times.
 */

/** Markup built by `html`; the only thing interpolated without escaping. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What may be interpolated: text is escaped, lists are joined, empty values vanish. */
export type HtmlPart = SafeHtml | string | number | undefined | false | readonly HtmlPart[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(part: HtmlPart): string {
  if (part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return (part as readonly HtmlPart[]).map(render).join('');
  return escapeHtml(String(part));
}

/** Template tag: literal parts are trusted markup, every `${value}` is escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlPart[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** 1536 → "1.5 KiB" (binary units, like the config's sizes). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u] ?? ''}`;
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** 0.8731 → "87.3 %"; undefined (nothing served yet) → "–". */
export function formatRatio(r: number | undefined): string {
  return r === undefined ? '–' : `${(r * 100).toFixed(1)} %`;
}

/** Milliseconds as the two largest units: "2d 3h", "5m 12s", "12s". */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    } else if (parts.length > 0) parts.push(`0${unit}`);
  }
  parts.push(`${s}s`);
  return parts.slice(0, 2).join(' ');
}

/** An ISO timestamp as "2025-06-01 12:34:56 UTC". */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}
