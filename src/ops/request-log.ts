/**
 * The request log: one JSON line per finished request (method, path without
 * query, status, cache result, bytes, duration, error code), a subscriber
 * of the handler's request events. Query strings (URL signatures) and
 * headers (credentials) never reach it.
 *
 * This is the one line written for every request, so it is composed here
 * rather than by pino's generic serializer (about a quarter of the cost per
 * line): the same bytes pino would write for `log.info(fields, 'request')`
 * (level, time, the logger's bindings, the fields, msg) go straight to the
 * logger's destination. The test compares the two line by line.
 */
import pino, { type Logger } from 'pino';
import type { RequestEvent } from './request-event.js';

/** Printable ASCII without `"` and `\`: copied into a JSON string as is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `s` as a JSON string literal. */
function jsonString(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** A number as JSON writes it (`null` for NaN and infinities). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** The fields of a request line, in order. */
function fieldsOf(e: RequestEvent): Record<string, unknown> {
  return {
    method: e.method,
    path: e.path,
    status: e.status,
    cache: e.cache,
    bytes: e.bytes,
    ms: e.ms,
    ...(e.code ? { code: e.code } : {}),
    ...(e.extra ?? {}),
  };
}

interface PinoInternals {
  [key: symbol]: unknown;
}

/** Events whose lines must come out the same both ways before the fast path is used. */
const PROBES: RequestEvent[] = [
  { method: 'GET', path: '/v1/providers/a/b/index.json', route: 'r', kind: 'metadata', status: 200, cache: 'hit', bytes: 1234, ms: 0.1 },
  { method: 'HEAD', path: '/"q\\\u0001\u00e9\ud800', route: 'r', kind: 'artifact', status: 502, cache: 'error', bytes: 0, ms: 12.5, code: 'ERR_UPSTREAM' },
];

/** The request line for `e` at `time` (ms since the epoch), as pino would write it. */
function composeLine(e: RequestEvent, time: number, bindings: string): string {
  let line = `{"level":30,"time":${time}${bindings},"method":${jsonString(e.method)},"path":${jsonString(e.path)},"status":${jsonNumber(e.status)},"cache":${jsonString(e.cache)},"bytes":${jsonNumber(e.bytes)},"ms":${jsonNumber(e.ms)}`;
  if (e.code) line += `,"code":${jsonString(e.code)}`;
  return `${line},"msg":"request"}\n`;
}

/**
 * Where a request line can be written directly: the logger's destination,
 * when the logger is plain pino (epoch time, info = 30, no mixin, hooks,
 * message prefix or metadata-reading stream) and formats the probe events
 * exactly as `composeLine` does. Undefined otherwise; lines then go through
 * pino itself.
 */
function directSink(log: Logger): { write: (line: string) => void; bindings: string } | undefined {
  const p = log as unknown as PinoInternals;
  const s = pino.symbols as typeof pino.symbols & { readonly msgPrefixSym?: symbol };
  const stream = p[s.streamSym] as ({ write?: (line: string) => unknown } & PinoInternals) | undefined;
  const bindings = p[s.chindingsSym];
  const hooks = p[s.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const asJson = p[s.asJsonSym] as ((obj: object, msg: string, num: number, time: string) => string) | undefined;
  if (
    typeof stream?.write !== 'function' ||
    stream[s.needsMetadataGsym] === true ||
    typeof bindings !== 'string' ||
    typeof asJson !== 'function' ||
    p[s.timeSym] !== pino.stdTimeFunctions.epochTime ||
    p[s.mixinSym] !== undefined ||
    (s.msgPrefixSym !== undefined && p[s.msgPrefixSym] !== undefined) ||
    hooks?.logMethod !== undefined ||
    hooks?.streamWrite !== undefined ||
    log.levels.values.info !== 30
  ) {
    return undefined;
  }
  const same = PROBES.every((e) => asJson.call(log, fieldsOf(e), 'request', 30, ',"time":0') === composeLine(e, 0, bindings));
  const write = stream.write;
  return same ? { write: (line: string) => void write.call(stream, line), bindings } : undefined;
}

/** Creates the request-log subscriber. */
export function createRequestLog(log: Logger): (e: RequestEvent) => void {
  const sink = directSink(log);
  if (!sink) return (e) => log.info(fieldsOf(e), 'request');
  const { write, bindings } = sink;
  return (e) => {
    if (log.levelVal > 30) return;
    // Extra fields (admin endpoints) may repeat a key: pino's object spread decides.
    if (e.extra) log.info(fieldsOf(e), 'request');
    else write(composeLine(e, Date.now(), bindings));
  };
}
