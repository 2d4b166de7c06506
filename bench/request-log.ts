/**
 * One-off measurement: CPU time per request-log line, the line regcache
 * composes itself (src/ops/request-log.ts) against the same line written by
 * pino's `log.info(fields, 'request')`, both into a sink that only counts
 * bytes (so only composing is measured, not the write to stdout).
 * Run: npm run build && node dist/bench/request-log.js [lines] [rounds]
 * Not a test (no assertions on time); prints the median ns per line of each.
 */
import pino from 'pino';
import type { RequestEvent } from '../src/http/endpoint.js';
import { createRequestLog } from '../src/ops/request-log.js';
import { median } from './support/stats.js';

const lines = Number(process.argv[2] ?? 500_000);
const rounds = Number(process.argv[3] ?? 7);
let sink = 0;
const logger = (): pino.Logger => pino({ level: 'info', base: { svc: 'regcache' } }, { write: (s: string) => void (sink += s.length) });

const event: RequestEvent = { method: 'GET', path: '/v1/mirror/registry.terraform.io/hashicorp/aws/index.json', route: 'terraform-mirror', kind: 'metadata', status: 200, cache: 'hit', bytes: 1234, ms: 0.1 };
const viaPinoLogger = logger();
const sides: Record<string, (e: RequestEvent) => void> = {
  'pino log.info': (e) => viaPinoLogger.info({ method: e.method, path: e.path, status: e.status, cache: e.cache, bytes: e.bytes, ms: e.ms }, 'request'),
  'regcache line': createRequestLog(logger()),
};

const perLine: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, log] of Object.entries(sides)) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lines; i++) log(event);
    (perLine[name] ??= []).push(Number(process.hrtime.bigint() - t0) / lines);
  }
}
for (const [name, ns] of Object.entries(perLine)) console.log(`${name.padEnd(14)} ${median(ns).toFixed(0)} ns/line (median of ${rounds} x ${lines} lines; min ${Math.min(...ns).toFixed(0)}, max ${Math.max(...ns).toFixed(0)})`);
if (sink === 0) throw new Error('nothing was written');
