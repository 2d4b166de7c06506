/**
 * Cold-fill load generator, run as its own process so the clients do not
 * share an event loop with the fake origin. Starts N downloads of one URL at
 * the same instant (one connection each) and prints, as JSON, each client's
 * time to response headers, to the first body byte and to the last byte,
 * relative to that instant.
 *
 *   node dist/bench/cold-clients.js URL CLIENTS [CA_FILE]
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** One client's outcome; times in ms from the common start. */
export interface ClientTiming {
  status: number;
  bytes: number;
  headersMs: number;
  firstByteMs: number;
  lastByteMs: number;
  error?: string;
}

/** What the script prints. */
export interface ColdClientsOutput {
  url: string;
  /** Epoch ms of the common start, to line client timings up with server logs. */
  startedAt: number;
  clients: ClientTiming[];
  wallMs: number;
}

function one(url: string, t0: number, ca: string | undefined, timeoutMs: number): Promise<ClientTiming> {
  const lib = url.startsWith('https:') ? https : http;
  const t: ClientTiming = { status: 0, bytes: 0, headersMs: Number.NaN, firstByteMs: Number.NaN, lastByteMs: Number.NaN };
  return new Promise((resolve) => {
    const fail = (err: Error): void => {
      t.error = err.message;
      resolve(t);
    };
    const req = lib.get(url, { agent: false, ...(ca === undefined ? {} : { ca }) }, (res) => {
      t.status = res.statusCode ?? 0;
      t.headersMs = performance.now() - t0;
      res.on('data', (c: Buffer) => {
        if (t.bytes === 0) t.firstByteMs = performance.now() - t0;
        t.bytes += c.length;
      });
      res.on('error', fail);
      res.on('end', () => {
        t.lastByteMs = performance.now() - t0;
        if (!res.complete) t.error = 'incomplete';
        resolve(t);
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', fail);
  });
}

async function main(): Promise<void> {
  const [url, countText, caFile] = process.argv.slice(2);
  const count = Number(countText);
  if (url === undefined || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: cold-clients URL CLIENTS [CA_FILE]\n');
    process.exitCode = 2;
    return;
  }
  const ca = caFile === undefined ? undefined : readFileSync(caFile, 'utf8');
  const t0 = performance.now();
  const startedAt = performance.timeOrigin + t0;
  const clients = await Promise.all(Array.from({ length: count }, () => one(url, t0, ca, 300_000)));
  const out: ColdClientsOutput = { url, startedAt, clients, wallMs: performance.now() - t0 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
