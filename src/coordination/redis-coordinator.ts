/**
 * Fleet-wide single-flight over Redis: `SET lock NX PX ttl` elects one
 * leader per key; the lease is renewed while the fill runs and released
 * (compare-and-delete) when it ends. Waiters poll the shared store for the
 * committed object and retry the lock when it lapses. Any Redis error makes
 * the claim 'uncoordinated' so serving never depends on Redis.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { Claim, Coordinator } from '../core/coordinator.js';

/** Options for the Redis coordinator. */
export interface RedisCoordinatorOptions {
  url: string;
  /** Lease lifetime; renewed every third of it. */
  leaseMs?: number;
  /** How often waiters look for the committed object. */
  pollMs?: number;
  onError?: (err: Error) => void;
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

/** Starts connecting to Redis (reconnecting in the background) and returns the coordinator. */
export function createRedisCoordinator(opts: RedisCoordinatorOptions): Coordinator {
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 200;
  const client = createClient({ url: opts.url, disableOfflineQueue: true, socket: { connectTimeout: 2000, reconnectStrategy: (n) => Math.min(n * 200, 2000) } });
  client.on('error', (err: Error) => opts.onError?.(err));
  // Not awaited: an unreachable Redis must not delay start-up; commands fail fast meanwhile.
  void client.connect().catch((err: unknown) => opts.onError?.(err as Error));
  const lockKey = (key: string): string => `regcache:fill:${key}`;

  return {
    async claim(key, isCommitted, signal): Promise<Claim> {
      const token = randomUUID();
      try {
        while (!signal.aborted) {
          const got = await client.set(lockKey(key), token, { condition: 'NX', expiration: { type: 'PX', value: leaseMs } });
          if (got === 'OK') {
            const timer = setInterval(() => {
              void client.eval(RENEW, { keys: [lockKey(key)], arguments: [token, String(leaseMs)] }).catch((err: unknown) => opts.onError?.(err as Error));
            }, Math.floor(leaseMs / 3));
            timer.unref();
            return {
              kind: 'leader',
              lease: {
                async release() {
                  clearInterval(timer);
                  await client.eval(RELEASE, { keys: [lockKey(key)], arguments: [token] }).catch((err: unknown) => opts.onError?.(err as Error));
                },
              },
            };
          }
          if (await isCommitted()) return { kind: 'committed' };
          await sleep(pollMs, signal);
        }
        return { kind: 'uncoordinated' };
      } catch (err) {
        opts.onError?.(err as Error);
        return { kind: 'uncoordinated' };
      }
    },
    async close() {
      if (client.isOpen) await client.quit().catch(() => undefined);
    },
  };
}
