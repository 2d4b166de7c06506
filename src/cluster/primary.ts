/**
 * The primary process of `server.workers` > 1. It serves no request itself:
 * it makes the self-signed certificate once, forks the workers (node:cluster,
 * which shares the listening socket among them), decides which worker fills
 * which key, relays "forget" and gathers, writes the workers' log lines to
 * its own stdout whole (unless stdout is a regular file, which the workers
 * append to themselves), restarts a worker that died, and stops them all on
 * SIGTERM/SIGINT.
 */
import cluster, { type Worker } from 'node:cluster';
import { fstatSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { parseListenAddress, type Config } from '../config/schema.js';
import { resolveTls } from '../http/tls-material.js';
import { isOurs, type PrimaryMessage, type WorkerMessage } from './messages.js';

/** How long a gather waits for every worker's answer. */
const GATHER_MS = 5_000;

/**
 * Copies a worker's output to `out` in whole lines: each write ends at a
 * newline, so lines of different workers never interleave.
 */
function lineCopy(from: Readable | null, out: NodeJS.WritableStream): void {
  if (!from) return;
  let rest: Buffer | undefined;
  from.on('data', (chunk: Buffer) => {
    const data = rest ? Buffer.concat([rest, chunk]) : chunk;
    const cut = data.lastIndexOf(10);
    if (cut < 0) {
      rest = data;
      return;
    }
    out.write(data.subarray(0, cut + 1));
    rest = cut + 1 < data.length ? data.subarray(cut + 1) : undefined;
  });
  from.on('end', () => {
    if (rest) out.write(Buffer.concat([rest, Buffer.from('\n')]));
    rest = undefined;
  });
}

/** Runs the primary until a signal; resolves with the exit code. */
export async function runPrimary(config: Config, opts: { log?: Logger } = {}): Promise<number> {
  const log = opts.log ?? pino({ level: config.log.level, base: { svc: 'regcache', role: 'primary' } }, pino.destination({ dest: 1, sync: true }));
  const listen = parseListenAddress(config.server.listen);
  if (!listen) throw new Error(`invalid listen address ${config.server.listen}`);
  const count = config.server.workers;
  // The certificate is made here, once: every worker then reads the same files.
  await resolveTls(config, log, listen.host);
  const dir = await mkdtemp(join(tmpdir(), 'regcache-workers-'));

  const slots = new Map<number, Worker>();
  const ready = new Set<number>();
  const everReady = new Set<number>();
  const claims = new Map<string, number>();
  const gathers = new Map<number, { values: unknown[]; waiting: Set<number>; finish: () => void }>();
  let nextGather = 1;
  let stopping = false;
  let announced = false;
  const crashes = new Map<number, number[]>();

  const sendTo = (w: Worker | undefined, m: PrimaryMessage): void => {
    if (!w?.isConnected()) return;
    // A worker on its way out: the send fails (EPIPE) and its exit is handled below. With a callback the
    // failure comes here instead of as an 'error' event that would end the primary.
    try {
      w.send(m, undefined, {}, () => undefined);
    } catch {
      // channel already closed
    }
  };

  /**
   * Sends a message made by `make` to every live worker in `targets` and calls `done` with their answers
   * once all answered, went away, or GATHER_MS passed.
   */
  function fanOut(targets: Array<[number, Worker]>, make: (gid: number) => PrimaryMessage, done: (values: unknown[]) => void): void {
    const live = targets.filter(([, w]) => w.isConnected());
    const gid = nextGather++;
    const entry = {
      values: [] as unknown[],
      waiting: new Set(live.map(([s]) => s)),
      finish: () => {
        clearTimeout(timer);
        gathers.delete(gid);
        done(entry.values);
      },
    };
    const timer = setTimeout(entry.finish, GATHER_MS);
    gathers.set(gid, entry);
    for (const [, w] of live) sendTo(w, make(gid));
    if (entry.waiting.size === 0) entry.finish();
  }

  function onMessage(w: Worker, slot: number, raw: unknown): void {
    if (!isOurs(raw)) return;
    const m = raw as WorkerMessage;
    switch (m.t) {
      case 'rc:hi':
        sendTo(w, { t: 'rc:hello', slot, dir });
        return;
      case 'rc:claim': {
        const holder = claims.get(m.key);
        if (holder === undefined || holder === slot || !slots.get(holder)?.isConnected()) {
          claims.set(m.key, slot);
          sendTo(w, { t: 'rc:claimed', id: m.id, leader: true });
        } else sendTo(w, { t: 'rc:claimed', id: m.id, leader: false, slot: holder });
        return;
      }
      case 'rc:release':
        if (claims.get(m.key) === slot) claims.delete(m.key);
        return;
      case 'rc:forgotten':
        // Answered once every other live worker forgot the key: a purge returns only when no worker serves it from memory.
        fanOut(
          [...slots].filter(([s]) => s !== slot),
          (gid) => ({ t: 'rc:forget', id: gid, key: m.key }),
          () => sendTo(w, { t: 'rc:gathered', id: m.id, values: [] }),
        );
        return;
      case 'rc:collected': {
        const g = gathers.get(m.id);
        if (!g?.waiting.delete(slot)) return;
        g.values.push(m.value);
        if (g.waiting.size === 0) g.finish();
        return;
      }
      case 'rc:gather':
        fanOut([...slots], (gid) => ({ t: 'rc:collect', id: gid, topic: m.topic }), (values) => sendTo(w, { t: 'rc:gathered', id: m.id, values }));
        return;
      case 'rc:ready':
        ready.add(slot);
        everReady.add(slot);
        if (!announced && ready.size === count) {
          announced = true;
          log.info({ url: m.url, metricsUrl: m.metricsUrl, caPath: m.caPath, workers: count, storagePath: config.storage.path }, 'regcache listening');
        } else if (announced) log.info({ worker: slot }, 'worker back');
        return;
      default:
    }
  }

  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let failed = false;

  function fork(slot: number): void {
    const w = cluster.fork();
    slots.set(slot, w);
    lineCopy(w.process.stdout, process.stdout);
    lineCopy(w.process.stderr, process.stderr);
    w.on('message', (m: unknown) => onMessage(w, slot, m));
    w.on('error', (err: Error) => log.debug({ worker: slot, err: err.message }, 'worker channel error'));
    w.once('exit', (code, signal) => {
      if (slots.get(slot) === w) slots.delete(slot);
      ready.delete(slot);
      for (const [key, holder] of claims) if (holder === slot) claims.delete(key);
      for (const g of gathers.values()) if (g.waiting.delete(slot) && g.waiting.size === 0) g.finish();
      if (stopping) {
        // The lead wrote the final stats, draining the others' counts: they may go now.
        if (slot === 1 || !slots.has(1)) for (const other of slots.values()) sendTo(other, { t: 'rc:exit' });
        if (slots.size === 0) resolveExit(failed ? 1 : 0);
        return;
      }
      if (!everReady.has(slot)) {
        // A worker that never got to listen (port taken, bad storage path): the others would fail the same way.
        log.error({ worker: slot, code, signal }, 'worker failed to start; stopping');
        failed = true;
        stop();
        return;
      }
      const now = Date.now();
      const recent = (crashes.get(slot) ?? []).filter((t) => now - t < 60_000);
      recent.push(now);
      crashes.set(slot, recent);
      const delay = Math.min(30_000, 250 * 2 ** (recent.length - 1));
      log.warn({ worker: slot, code, signal, restartInMs: delay }, 'worker exited; restarting it');
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, delay).unref();
    });
  }

  function stop(): void {
    stopping = true;
    if (slots.size === 0) resolveExit(failed ? 1 : 0);
    for (const w of slots.values()) sendTo(w, { t: 'rc:stop' });
    if (!slots.has(1)) for (const w of slots.values()) sendTo(w, { t: 'rc:exit' });
  }

  // Writes to a regular file never interleave within one write, and pino writes whole lines: workers then
  // write to it themselves. A pipe, socket or terminal (partial writes when full) goes through lineCopy.
  const stdoutIsFile = (() => {
    try {
      return fstatSync(1).isFile();
    } catch {
      return false;
    }
  })();
  cluster.setupPrimary({ stdio: ['ignore', stdoutIsFile ? 'inherit' : 'pipe', 'pipe', 'ipc'] });
  for (let slot = 1; slot <= count; slot++) fork(slot);

  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      for (const w of slots.values()) w.process.kill('SIGKILL');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal: sig }, 'shutting down');
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const code = await exited;
  await rm(dir, { recursive: true, force: true });
  log.info('regcache stopped');
  return code;
}
