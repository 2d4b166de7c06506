/**
 * The messages a regcache primary and its worker processes exchange over
 * the cluster's IPC channel (JSON). Workers ask; the primary decides who
 * fills a key, relays "forget" to the other workers and gathers values
 * (metrics, stats) from all of them.
 */

/** Topics a worker can be asked to report on. */
export type GatherTopic = 'metrics' | 'stats' | 'stats-drain';

/** Worker → primary. */
export type WorkerMessage =
  | { t: 'rc:hi' }
  | { t: 'rc:claim'; id: number; key: string }
  | { t: 'rc:release'; key: string }
  /** Answered with 'rc:gathered' (no values) once every other worker forgot the key. */
  | { t: 'rc:forgotten'; id: number; key: string }
  | { t: 'rc:gather'; id: number; topic: GatherTopic }
  /** The answer to 'rc:collect', and (value null) the acknowledgement of 'rc:forget'. */
  | { t: 'rc:collected'; id: number; value: unknown }
  | { t: 'rc:ready'; url: string; caPath: string | undefined; metricsUrl: string | undefined };

/** Primary → worker. */
export type PrimaryMessage =
  | { t: 'rc:hello'; slot: number; dir: string }
  | { t: 'rc:claimed'; id: number; leader: true }
  | { t: 'rc:claimed'; id: number; leader: false; slot: number }
  | { t: 'rc:forget'; id: number; key: string }
  | { t: 'rc:collect'; id: number; topic: GatherTopic }
  | { t: 'rc:gathered'; id: number; values: unknown[] }
  | { t: 'rc:stop' }
  /** After a stop: the lead has written the final stats (it drained this worker's counts), so exit. */
  | { t: 'rc:exit' };

/** Whether an IPC message is one of ours (prom-client and Node send their own). */
export const isOurs = (m: unknown): m is { t: string } => typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && (m as { t: string }).t.startsWith('rc:');

/** Path of the internal follow endpoint (served on each worker's unix socket only). */
export const FOLLOW_PATH = '/_regcache/follow';

/** On a follow endpoint's error answer: the upstream status the failed fill saw. */
export const UPSTREAM_STATUS_HEADER = 'x-regcache-upstream-status';

/** The unix socket a worker slot serves its internal endpoints on. */
export const socketOf = (dir: string, slot: number): string => `${dir}/w${slot}.sock`;
