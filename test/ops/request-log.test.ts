/**
 * The request log composes its line itself and writes it straight to the
 * logger's destination. The line must be byte for byte what pino writes for
 * the same fields (apart from the clock), for every path a client can send;
 * a logger configured in a way the composer does not reproduce gets its
 * lines from pino itself; the log level is honoured.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino, { type LoggerOptions } from 'pino';
import type { RequestEvent } from '../../src/http/endpoint.js';
import { createRequestLog } from '../../src/ops/request-log.js';

const event = (over: Partial<RequestEvent>): RequestEvent => ({ method: 'GET', path: '/v1/providers/a/b/index.json', route: 'terraform-mirror', kind: 'metadata', status: 200, cache: 'hit', bytes: 10, ms: 0.1, ...over });

const EVENTS: RequestEvent[] = [
  event({}),
  event({ method: 'HEAD', kind: 'artifact', cache: 'miss', status: 502, bytes: 0, ms: 1234.5, code: 'ERR_UPSTREAM_BAD_ANSWER' }),
  event({ path: '/a"b\\c', cache: 'bypass', status: 404, code: 'ERR_NOT_FOUND' }),
  event({ path: '/tab\there/nul\u0000/del\u007f/bell\u0007' }),
  event({ path: '/caf\u00e9/\u00ff\u00fe/\u4e2d/\u{1f600}' }),
  event({ path: '/%2e%2e/%00/<script>', method: 'PROPFIND', status: 405, code: 'ERR_METHOD_NOT_ALLOWED', cache: 'error' }),
  event({ path: '', bytes: 0, ms: 0, status: 0 }),
  event({ ms: Number.NaN, bytes: Number.POSITIVE_INFINITY }),
];

/** The fields the request log writes, built independently of the code under test. */
function fields(e: RequestEvent): Record<string, unknown> {
  return { method: e.method, path: e.path, status: e.status, cache: e.cache, bytes: e.bytes, ms: e.ms, ...(e.code ? { code: e.code } : {}), ...(e.extra ?? {}) };
}

/** A logger writing into an array, and that array. */
function capture(opts: LoggerOptions): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino(opts, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

const noClock = (line: string): string => line.replace(/"time":\d+/, '"time":0');

/** Fails the test if pino's own info() is used: the line must be written directly. */
function forbidPinoInfo(log: pino.Logger): void {
  log.info = (): never => {
    throw new Error('request line went through pino');
  };
}

void describe('request log', () => {
  const appOptions: LoggerOptions = { level: 'info', base: { svc: 'regcache' } };

  void it('writes, without pino, the same bytes pino writes for every kind of path', () => {
    const ours = capture(appOptions);
    const ref = capture(appOptions);
    forbidPinoInfo(ours.log);
    const log = createRequestLog(ours.log);
    for (const e of EVENTS) {
      log(e);
      ref.log.info(fields(e), 'request');
    }
    assert.equal(ours.lines.length, EVENTS.length);
    for (let i = 0; i < EVENTS.length; i++) {
      assert.equal(noClock(ours.lines[i] ?? ''), noClock(ref.lines[i] ?? ''), `event ${i}`);
      const parsed = JSON.parse(ours.lines[i] ?? '') as Record<string, unknown>;
      assert.equal(parsed.path, EVENTS[i]?.path);
      assert.ok(Math.abs((parsed.time as number) - Date.now()) < 60_000, 'time is the epoch time in ms');
    }
  });

  void it('escapes lone surrogates (which node:http never puts in a path), where pino writes them raw', () => {
    const ours = capture(appOptions);
    const e = event({ path: '/lone\ud800/low\udc00/end\ud83d' });
    createRequestLog(ours.log)(e);
    const line = ours.lines[0] ?? '';
    assert.ok(line.includes('/lone\\ud800/low\\udc00/end\\ud83d'), line);
    assert.equal((JSON.parse(line) as { path: unknown }).path, e.path);
    assert.equal(Buffer.from(line, 'utf8').toString('utf8'), line, 'the line is well-formed UTF-8');
  });

  void it('keeps the bindings of a child logger', () => {
    const ours = capture(appOptions);
    const ref = capture(appOptions);
    const child = ours.log.child({ listener: 'main' });
    forbidPinoInfo(child);
    createRequestLog(child)(EVENTS[1] as RequestEvent);
    ref.log.child({ listener: 'main' }).info(fields(EVENTS[1] as RequestEvent), 'request');
    assert.equal(noClock(ours.lines[0] ?? ''), noClock(ref.lines[0] ?? ''));
  });

  void it('writes nothing when the level is above info, and starts when it is lowered', () => {
    const ours = capture({ ...appOptions, level: 'warn' });
    const log = createRequestLog(ours.log);
    log(EVENTS[0] as RequestEvent);
    assert.deepEqual(ours.lines, []);
    ours.log.level = 'debug';
    log(EVENTS[0] as RequestEvent);
    assert.equal(ours.lines.length, 1);
  });

  void it('lets pino write the line for a logger it cannot reproduce (mixin, formatters, redaction, time, message key)', () => {
    const variants: LoggerOptions[] = [
      { ...appOptions, mixin: () => ({ replica: 'r1' }) },
      { ...appOptions, formatters: { level: (label) => ({ level: label }) } },
      { ...appOptions, redact: ['path'] },
      { ...appOptions, timestamp: pino.stdTimeFunctions.isoTime },
      { ...appOptions, messageKey: 'message' },
      { ...appOptions, serializers: { path: () => 'hidden' } },
    ];
    for (const opts of variants) {
      const ours = capture(opts);
      const ref = capture(opts);
      createRequestLog(ours.log)(EVENTS[2] as RequestEvent);
      ref.log.info(fields(EVENTS[2] as RequestEvent), 'request');
      const strip = (l: string): string => noClock(l).replace(/"time":"[^"]*"/, '"time":0');
      assert.equal(strip(ours.lines[0] ?? ''), strip(ref.lines[0] ?? ''), JSON.stringify(Object.keys(opts)));
    }
  });

  void it('passes extra fields through pino, which resolves a repeated key as before', () => {
    const ours = capture(appOptions);
    const ref = capture(appOptions);
    const e = event({ kind: 'admin-purge', extra: { purged: 3, status: 'overridden' } });
    createRequestLog(ours.log)(e);
    ref.log.info(fields(e), 'request');
    assert.equal(noClock(ours.lines[0] ?? ''), noClock(ref.lines[0] ?? ''));
    assert.equal((JSON.parse(ours.lines[0] ?? '') as { status: unknown }).status, 'overridden');
  });
});
