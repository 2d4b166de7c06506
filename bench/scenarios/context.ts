/**
 * What scenarios share: settings, fixtures, the long-running servers, and
 * helpers to alternate regcache and nginx within each round so drift
 * (thermal, page cache, background work) hits both sides equally.
 */
import type { Fixtures } from '../fixtures.js';
import { isBareSide, type BareSet, type BareSide } from '../support/bare-node.js';
import type { NginxInstance } from '../support/nginx.js';
import type { RegcacheInstance } from '../support/regcache-proc.js';
import type { BenchSettings } from '../support/settings.js';

/** The two sides of every comparison. */
export type Side = 'regcache' | 'nginx';

/** regcache with `server.workers: 2` (scenarios 1–3, next to the bare Node sides). */
export type WorkersSide = 'regcache2';

/** Shared state handed to every scenario. */
export interface BenchContext {
  s: BenchSettings;
  work: string;
  fx: Fixtures;
  nginx: NginxInstance;
  /** nginx master + workers, for CPU readings. */
  nginxPids: () => number[];
  /** Plain-HTTP regcache (scenario 1 and 2 HTTP rows). */
  rcHttp: RegcacheInstance;
  /** TLS regcache with its self-signed CA (TLS rows, terraform init). */
  rcTls: RegcacheInstance;
  rcTlsCaPem: string;
  /** The same two with `server.workers: 2` (started for scenarios 1 and 2). */
  rcHttp2: RegcacheInstance | undefined;
  rcTls2: RegcacheInstance | undefined;
  rcTls2CaPem: string | undefined;
  nginxCaPem: string;
  log(message: string): void;
}

/** What the mode scenarios (6, 7) need: they start their own origins and servers. */
export type ModeBenchContext = Pick<BenchContext, 's' | 'work' | 'log'>;

/** Round r's order: odd rounds start with regcache, even rounds with nginx. */
export function sidesFor(round: number): Side[] {
  return round % 2 === 1 ? ['regcache', 'nginx'] : ['nginx', 'regcache'];
}

/** Rounds 1..n. */
export function roundsOf(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Where one side of a round is loaded, and the processes whose CPU counts. */
export interface LoadTarget {
  url: string;
  pids: () => number[];
}

/** The URL (regcache's or nginx's path of the same content) and server processes of `side`. */
export function targetOf(ctx: BenchContext, bare: BareSet, proto: 'http' | 'https', side: Side | BareSide | WorkersSide, paths: { regcache: string; nginx: string }): LoadTarget {
  if (side === 'regcache2') {
    const rc = proto === 'http' ? ctx.rcHttp2 : ctx.rcTls2;
    if (!rc) throw new Error('regcache with workers is not running');
    return { url: `${rc.url}${paths.regcache}`, pids: () => rc.pids() };
  }
  if (isBareSide(side)) {
    const b = bare.get(proto, side);
    return { url: `${b.url}${paths.regcache}`, pids: () => b.pids() };
  }
  if (side === 'regcache') {
    const rc = proto === 'http' ? ctx.rcHttp : ctx.rcTls;
    return { url: `${rc.url}${paths.regcache}`, pids: () => [rc.pid] };
  }
  return { url: `${proto === 'http' ? ctx.nginx.staticHttp : ctx.nginx.staticHttps}${paths.nginx}`, pids: ctx.nginxPids };
}
