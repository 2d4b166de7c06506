/**
 * Writes the fake origin's answers, applying body-level faults (stall,
 * truncation) and optional bandwidth throttling, and giving up quietly when
 * the client goes away or the origin stops.
 */
import type { ServerResponse } from 'node:http';
import type { CatalogFile } from './origin-catalog.js';
import type { ActiveFault } from './origin-faults.js';

/** A routed answer before faults and throttling are applied. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Set for file downloads: enables throttling and file faults. */
  file?: CatalogFile;
}

/** How to send one reply. */
export interface SendContext {
  head: boolean;
  fault: ActiveFault | undefined;
  bytesPerSecond: number | undefined;
  /** Aborted when the response closes or the origin stops. */
  signal: AbortSignal;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves true when `released` settles, or false as soon as `signal` aborts. */
export function untilReleased(released: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    void released.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(!signal.aborted);
    });
  });
}

function write(res: ServerResponse, chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (res.destroyed || signal.aborted || chunk.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    res.write(chunk, done);
  });
}

/** Writes `body`, at most `bytesPerSecond` when given; false when interrupted. */
async function writeBody(
  res: ServerResponse,
  body: Buffer,
  bytesPerSecond: number | undefined,
  signal: AbortSignal,
): Promise<boolean> {
  if (bytesPerSecond === undefined || bytesPerSecond <= 0) {
    await write(res, body, signal);
    return !signal.aborted && !res.destroyed;
  }
  const chunkSize = Math.max(1, Math.floor(bytesPerSecond / 20));
  const start = Date.now();
  for (let offset = 0; offset < body.length; offset += chunkSize) {
    const end = Math.min(body.length, offset + chunkSize);
    await write(res, body.subarray(offset, end), signal);
    if (signal.aborted || res.destroyed) return false;
    const due = start + (end * 1000) / bytesPerSecond;
    if (end < body.length && !(await sleep(due - Date.now(), signal))) return false;
  }
  return true;
}

/** Sends `reply`, honouring `truncate` and `hangBody` faults and throttling. */
export async function sendReply(res: ServerResponse, reply: Reply, ctx: SendContext): Promise<void> {
  const bodyless = reply.status === 204 || reply.status === 304;
  const headers = bodyless ? reply.headers : { ...reply.headers, 'content-length': String(reply.body.length) };
  res.writeHead(reply.status, headers);
  if (ctx.head || bodyless) {
    res.end();
    return;
  }
  const bps = reply.file === undefined ? undefined : ctx.bytesPerSecond;
  const fault = ctx.fault?.fault;
  if (fault?.kind === 'truncate') {
    res.flushHeaders();
    await writeBody(res, reply.body.subarray(0, Math.max(0, fault.afterBytes)), bps, ctx.signal);
    res.destroy();
    return;
  }
  if (fault?.kind === 'hangBody' && ctx.fault !== undefined) {
    const cut = Math.max(0, Math.min(fault.afterBytes, reply.body.length));
    res.flushHeaders();
    if (!(await writeBody(res, reply.body.subarray(0, cut), bps, ctx.signal))) return;
    if (!(await untilReleased(ctx.fault.released, ctx.signal))) return;
    if (!(await writeBody(res, reply.body.subarray(cut), bps, ctx.signal))) return;
    res.end();
    return;
  }
  if (await writeBody(res, reply.body, bps, ctx.signal)) res.end();
}
