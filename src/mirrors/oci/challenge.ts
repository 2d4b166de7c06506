/**
 * `WWW-Authenticate` challenges of an OCI registry (RFC 7235 auth-params):
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`
 * or `Basic realm="…"`. Quoted values may hold commas and escaped quotes.
 */

/** One parsed challenge: the scheme (lower case) and its parameters (lower-case names). */
export interface Challenge {
  scheme: string;
  params: Readonly<Record<string, string>>;
}

/** Splits `a="x,y", b=c` at the commas outside quotes. */
function splitParams(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\\' && quoted) {
      current += c + (text[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === ',' && !quoted) {
      parts.push(current.trim());
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current.trim());
  return parts.filter((p) => p.length > 0);
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

/** Parses the first challenge of a header; undefined when it is not one (a Bearer challenge needs a realm). */
export function parseChallenge(header: string): Challenge | undefined {
  const text = header.trim();
  const space = text.indexOf(' ');
  const scheme = (space < 0 ? text : text.slice(0, space)).toLowerCase();
  if (!/^[a-z][a-z0-9._-]*$/.test(scheme)) return undefined;
  const params: Record<string, string> = {};
  for (const part of splitParams(space < 0 ? '' : text.slice(space + 1))) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (!/^[a-z0-9_-]+$/.test(name) || Object.hasOwn(params, name)) continue;
    params[name] = unquote(part.slice(eq + 1));
  }
  if (scheme === 'bearer' && (params['realm'] === undefined || params['realm'] === '')) return undefined;
  return { scheme, params };
}
