/**
 * A small HCL tokenizer: just enough structure to find `terraform {
 * required_providers { … } }` without being fooled by what surrounds it.
 * Comments (`#`, `//`, `/* *\/`), quoted strings with escapes and nested
 * `${ … }` templates, and heredocs are consumed whole, so braces or quotes
 * inside them never unbalance the scan. Everything else is punctuation,
 * identifiers, or an opaque "other" token.
 */

/** One token; `line` is 1-based, for error messages. */
export type Token =
  | { kind: 'ident'; text: string; line: number }
  /** `value` is undefined when the string contains a template (`${`/`%{`). */
  | { kind: 'string'; value: string | undefined; line: number }
  | { kind: 'punct'; text: '{' | '}' | '[' | ']' | '(' | ')' | '=' | ':' | ','; line: number }
  | { kind: 'newline'; line: number }
  | { kind: 'other'; line: number };

/** A syntax problem, with the 1-based line it was found on. */
export class HclSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_-]/;
const PUNCT = new Set(['{', '}', '[', ']', '(', ')', '=', ':', ',']);
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/** Splits HCL source into tokens. Throws HclSyntaxError on unterminated strings, comments or heredocs. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;

  /** Reads a quoted string starting at the opening quote; returns its value (undefined if templated). */
  const readString = (): string | undefined => {
    const startLine = line;
    let value = '';
    let templated = false;
    i++;
    for (;;) {
      const c = src[i];
      if (c === undefined || c === '\n') throw new HclSyntaxError('unterminated string', startLine);
      if (c === '"') {
        i++;
        return templated ? undefined : value;
      }
      if (c === '\\') {
        const e = src[i + 1] ?? '';
        const hex = e === 'u' ? src.slice(i + 2, i + 6) : e === 'U' ? src.slice(i + 2, i + 10) : '';
        if (hex !== '' && /^[0-9A-Fa-f]+$/.test(hex)) {
          value += String.fromCodePoint(parseInt(hex, 16));
          i += 2 + hex.length;
        } else {
          value += ESCAPES[e] ?? e;
          i += 2;
        }
        continue;
      }
      if ((c === '$' || c === '%') && src[i + 1] === c && src[i + 2] === '{') {
        value += `${c}{`;
        i += 3;
        continue;
      }
      if ((c === '$' || c === '%') && src[i + 1] === '{') {
        templated = true;
        i += 2;
        skipTemplate();
        continue;
      }
      value += c;
      i++;
    }
  };

  /** Skips a template expression up to and including its closing brace. */
  const skipTemplate = (): void => {
    const startLine = line;
    let depth = 1;
    while (depth > 0) {
      const c = src[i];
      if (c === undefined) throw new HclSyntaxError('unterminated template expression', startLine);
      if (c === '"') {
        readString();
        continue;
      }
      if (c === '\n') line++;
      if (c === '{') depth++;
      if (c === '}') depth--;
      i++;
    }
  };

  /** Skips a heredoc body after `<<ID` / `<<-ID`; returns false when this is not a heredoc. */
  const heredoc = (): boolean => {
    const m = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n/.exec(src.slice(i, i + 200));
    if (!m) return false;
    const startLine = line;
    const marker = m[1] ?? '';
    i += m[0].length;
    line++;
    for (;;) {
      if (i >= src.length) throw new HclSyntaxError(`unterminated heredoc <<${marker}`, startLine);
      const end = src.indexOf('\n', i);
      const text = src.slice(i, end === -1 ? src.length : end);
      i = end === -1 ? src.length : end;
      if (text.trim() === marker) return true;
      if (end !== -1) {
        i++;
        line++;
      }
    }
  };

  while (i < src.length) {
    const c = src[i] ?? '';
    const next = src[i + 1];
    if (c === '\n') {
      tokens.push({ kind: 'newline', line });
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\ufeff') {
      i++;
    } else if (c === '#' || (c === '/' && next === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end === -1) throw new HclSyntaxError('unterminated /* comment', line);
      for (let k = i; k < end; k++) if (src[k] === '\n') line++;
      i = end + 2;
    } else if (c === '"') {
      const startLine = line;
      tokens.push({ kind: 'string', value: readString(), line: startLine });
    } else if (c === '<' && next === '<' && heredoc()) {
      tokens.push({ kind: 'other', line });
    } else if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', text: c as '{', line });
      i++;
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < src.length && IDENT_PART.test(src[i] ?? '')) i++;
      tokens.push({ kind: 'ident', text: src.slice(start, i), line });
    } else {
      tokens.push({ kind: 'other', line });
      i++;
    }
  }
  return tokens;
}
