/**
 * A worker's side of `server.workers`: its link to the primary (claims,
 * forget broadcasts, gathering values from every worker) and the
 * Coordinator built on it.
 *
 * Invariants:
 * - One download per key across the workers: the primary names one leader;
 *   another worker feeds its own fill of the key from one stream of the
 *   leader's (over the leader's internal socket), so every client streams
 *   from that one download, held back until verified in both workers.
 * - Coordination is an optimization: if the primary does not answer, the
 *   claim is 'uncoordinated' and the worker fills on its own (the store's
 *   atomic commit keeps the object whole).
 */
import { request } from 'node:http';
import type { Claim, Coordinator, RemoteBody, RemoteFill } from '../core/coordinator.js';
import type { IncomingMessage } from 'node:http';
import { ErrorCodes, RegcacheError, type ErrorCode } from '../core/errors.js';
import { FOLLOW_PATH, isOurs, socketOf, UPSTREAM_STATUS_HEADER, type GatherTopic, type PrimaryMessage, type WorkerMessage } from './messages.js';

/** How long a worker waits for the primary's answer before going on alone. */
const ANSWER_MS = 5_000;

/** What a worker knows of the cluster and how it talks to the primary. */
export interface WorkerLink {
  /** This worker's slot, 1…workers; slot 1 leads (retention, admin API, stats flush). */
  readonly slot: number;
  readonly lead: boolean;
  /** This worker's internal socket. */
  readonly socket: string;
  /** The lead worker's internal socket. */
  readonly leadSocket: string;
  readonly coordinator: Coordinator;
  /** Values from every live worker (this one included) for `topic`. */
  gather(topic: GatherTopic): Promise<unknown[]>;
  /** Answers the primary's collect requests for `topic`. */
  onCollect(topic: GatherTopic, fn: () => unknown): void;
  /** Called when another worker dropped a key. */
  onForget(fn: (key: string) => void): void;
  /** Stops are asked for by the primary. */
  onStop(fn: () => void): void;
  /**
   * Resolves when a stopped worker may exit: at once for the lead; for the
   * others once the lead has gone (its final stats flush drains their
   * counts) or the primary has, at most after `maxMs`.
   */
  mayExit(maxMs: number): Promise<void>;
  ready(info: { url: string; caPath: string | undefined; metricsUrl: string | undefined }): void;
}

const send = (m: WorkerMessage): boolean => {
  if (!process.send || !process.connected) return false;
  try {
    // With a callback, a failed send (the primary gone) does not become an 'error' event on process.
    return process.send(m, undefined, {}, () => undefined);
  } catch {
    return false;
  }
};

/** Waits for the primary's hello and returns the link. */
export async function connectWorker(): Promise<WorkerLink> {
  const hello = await new Promise<Extract<PrimaryMessage, { t: 'rc:hello' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no hello from the primary process')), 10_000);
    const onMessage = (m: unknown): void => {
      if (!isOurs(m) || m.t !== 'rc:hello') return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(m as Extract<PrimaryMessage, { t: 'rc:hello' }>);
    };
    process.on('message', onMessage);
    // Asked for only once this process listens: a hello sent earlier could be lost.
    if (!send({ t: 'rc:hi' })) reject(new Error('not a worker process'));
  });
  const { slot, dir } = hello;
  let nextId = 1;
  const waiting = new Map<number, (m: PrimaryMessage) => void>();
  const collectors = new Map<GatherTopic, () => unknown>();
  const forgetters: Array<(key: string) => void> = [];
  const stoppers: Array<() => void> = [];
  let exitAllowed: () => void = () => undefined;
  const exitGranted = new Promise<void>((resolve) => {
    exitAllowed = resolve;
  });
  process.once('disconnect', () => exitAllowed());

  process.on('message', (raw: unknown) => {
    if (!isOurs(raw)) return;
    const m = raw as PrimaryMessage;
    switch (m.t) {
      case 'rc:claimed':
      case 'rc:gathered': {
        const done = waiting.get(m.id);
        waiting.delete(m.id);
        done?.(m);
        return;
      }
      case 'rc:collect': {
        const fn = collectors.get(m.topic);
        void Promise.resolve()
          .then(() => fn?.())
          .then(
            (value) => send({ t: 'rc:collected', id: m.id, value: value ?? null }),
            () => send({ t: 'rc:collected', id: m.id, value: null }),
          );
        return;
      }
      case 'rc:forget':
        for (const fn of forgetters) fn(m.key);
        send({ t: 'rc:collected', id: m.id, value: null });
        return;
      case 'rc:stop':
        for (const fn of stoppers) fn();
        return;
      case 'rc:exit':
        exitAllowed();
        return;
      default:
    }
  });

  /** Sends `m` (with a fresh id) and resolves with the answer, or undefined when none came. */
  const ask = <T extends PrimaryMessage>(make: (id: number) => WorkerMessage, signal?: AbortSignal): Promise<T | undefined> =>
    new Promise((resolve) => {
      const id = nextId++;
      const finish = (m: PrimaryMessage | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiting.delete(id);
        resolve(m as T | undefined);
      };
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), ANSWER_MS);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting.set(id, finish);
      if (!send(make(id))) finish(undefined);
    });

  const coordinator: Coordinator = {
    async claim(key, _isCommitted, signal): Promise<Claim> {
      const answer = await ask<Extract<PrimaryMessage, { t: 'rc:claimed' }>>((id) => ({ t: 'rc:claim', id, key }), signal);
      if (!answer) return { kind: 'uncoordinated' };
      if (answer.leader) {
        let released = false;
        return {
          kind: 'leader',
          lease: {
            release() {
              if (!released) send({ t: 'rc:release', key });
              released = true;
              return Promise.resolve();
            },
          },
        };
      }
      return { kind: 'remote', remote: remoteFill(socketOf(dir, answer.slot), key) };
    },
    async forgotten(key) {
      await ask((id) => ({ t: 'rc:forgotten', id, key }));
    },
    close: () => Promise.resolve(),
  };

  return {
    slot,
    lead: slot === 1,
    socket: socketOf(dir, slot),
    leadSocket: socketOf(dir, 1),
    coordinator,
    async gather(topic) {
      const answer = await ask<Extract<PrimaryMessage, { t: 'rc:gathered' }>>((id) => ({ t: 'rc:gather', id, topic }));
      if (answer) return answer.values;
      // No primary: this worker's own value is all there is.
      return [await collectors.get(topic)?.()];
    },
    onCollect(topic, fn) {
      collectors.set(topic, fn);
    },
    onForget(fn) {
      forgetters.push(fn);
    },
    onStop(fn) {
      stoppers.push(fn);
    },
    async mayExit(maxMs) {
      if (slot === 1) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exitGranted, new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)))]);
      clearTimeout(timer);
    },
    ready(info) {
      send({ t: 'rc:ready', ...info });
    },
  };
}

/** Follows the fill of `key` that the worker behind `socketPath` runs. */
export function remoteFill(socketPath: string, key: string): RemoteFill {
  return {
    open(signal): Promise<RemoteBody | undefined> {
      const q = new URLSearchParams({ key });
      return new Promise((resolve, reject) => {
        const req = request({ socketPath, method: 'GET', path: `${FOLLOW_PATH}?${q.toString()}`, signal }, (res) => {
          const status = res.statusCode ?? 0;
          if (status === 200) {
            const announced = res.headers['content-length'];
            const size = typeof announced === 'string' && /^\d+$/.test(announced) ? Number(announced) : undefined;
            resolve({ size, body: res });
            return;
          }
          if (!String(res.headers['content-type']).startsWith('application/json')) {
            res.resume();
            if (status === 404) resolve(undefined);
            else reject(new RegcacheError('ERR_STORAGE_UNAVAILABLE', `the worker filling this artifact answered ${status}`));
            return;
          }
          // That worker's fill failed: its clients got this error, and so do this worker's.
          fillError(res, status).then(reject, reject);
        });
        // A worker that went away (restarted, stopping) has nothing to follow: the caller looks in the store.
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (signal.aborted) reject(new RegcacheError('ERR_SHUTTING_DOWN', undefined, { cause: err }));
          else resolve(undefined);
        });
        req.end();
      });
    },
  };
}

/** The error a failed fill's follow endpoint answered (see sendFollowError in internal.ts). */
async function fillError(res: IncomingMessage, status: number): Promise<RegcacheError> {
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 16 * 1024) break;
  }
  res.destroy();
  let parsed: { errors?: unknown; code?: unknown };
  try {
    parsed = JSON.parse(text) as { errors?: unknown; code?: unknown };
  } catch {
    return new RegcacheError('ERR_STORAGE_UNAVAILABLE', `the worker filling this artifact answered ${status}`);
  }
  const code = typeof parsed.code === 'string' && Object.hasOwn(ErrorCodes, parsed.code) ? (parsed.code as ErrorCode) : 'ERR_STORAGE_UNAVAILABLE';
  const message = Array.isArray(parsed.errors) && typeof parsed.errors[0] === 'string' ? parsed.errors[0] : undefined;
  const upstream = Number(res.headers[UPSTREAM_STATUS_HEADER]);
  return new RegcacheError(code, message, Number.isInteger(upstream) && upstream > 0 ? { upstreamStatus: upstream } : {});
}
