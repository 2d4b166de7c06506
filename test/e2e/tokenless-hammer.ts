/**
 * The private-content race of issue 17, driven against real regcache
 * processes: tokenless clients ask for every path of a private provider
 * (versions, download answer, index.json, {version}.json, both zip paths)
 * in a tight loop on every process, while one client with the provider's
 * token caches it through one of them. Counts every tokenless 200.
 */
import http from 'node:http';
import type { OriginRegistry } from '../fakes/origin-registry.js';

/** The registry host every path names. */
export const RACE_HOST = 'registry.terraform.io';

/** The paths a tokenless client tries for provider `type` (1.0.0, linux_amd64). */
export function tokenlessPaths(type: string): string[] {
  const zip = `terraform-provider-${type}_1.0.0_linux_amd64.zip`;
  return [
    `/v1/providers/${RACE_HOST}/acme/${type}/versions`,
    `/v1/providers/${RACE_HOST}/acme/${type}/1.0.0/download/linux/amd64`,
    `/v1/providers/${RACE_HOST}/acme/${type}/1.0.0/archives/linux_amd64/${zip}`,
    `/v1/providers/${RACE_HOST}/acme/${type}/1.0.0/archives/SHA256SUMS`,
    `/v1/mirror/${RACE_HOST}/acme/${type}/index.json`,
    `/v1/mirror/${RACE_HOST}/acme/${type}/1.0.0.json`,
    `/v1/mirror/${RACE_HOST}/acme/${type}/1.0.0/linux_amd64/${zip}`,
  ];
}

/** GET on a keep-alive agent; resolves with the status (0 when the request failed). */
function get(agent: http.Agent, base: string, path: string, authorization?: string): Promise<{ status: number; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = http.get({ host: u.hostname, port: u.port, path, agent, headers: authorization ? { authorization } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
    });
    req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
  });
}

/** What the tokenless clients saw. */
export interface HammerTally {
  requests: number;
  /** Tokenless answers with status 200, by path. */
  leaks: Map<string, number>;
  /** Tokenless requests answered per base URL (for count-based phases). */
  perBase: Map<string, number>;
}

/** A running set of tokenless loops. */
export interface Hammer {
  tally: HammerTally;
  /** Resolves once every base URL answered `n` more tokenless requests than when called. */
  answered(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `loops` tokenless loops per base URL over `paths`. */
export function startHammer(bases: readonly string[], paths: readonly string[], loops: number): Hammer {
  const tally: HammerTally = { requests: 0, leaks: new Map(), perBase: new Map(bases.map((b) => [b, 0])) };
  let running = true;
  const agents: http.Agent[] = [];
  const waiters: Array<() => void> = [];
  const runners: Array<Promise<void>> = [];
  for (const base of bases) {
    for (let l = 0; l < loops; l++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      runners.push(
        (async () => {
          for (let i = l; running; i++) {
            const path = paths[i % paths.length] ?? '';
            const r = await get(agent, base, path);
            tally.requests++;
            tally.perBase.set(base, (tally.perBase.get(base) ?? 0) + 1);
            if (r.status === 200) tally.leaks.set(path, (tally.leaks.get(path) ?? 0) + 1);
            for (const w of waiters.splice(0)) w();
          }
        })(),
      );
    }
  }
  return {
    tally,
    async answered(n) {
      const start = new Map(tally.perBase);
      const done = (): boolean => bases.every((b) => (tally.perBase.get(b) ?? 0) - (start.get(b) ?? 0) >= n);
      while (!done()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    async stop() {
      running = false;
      await Promise.all(runners);
      for (const a of agents) a.destroy();
    },
  };
}

/**
 * What the client with the token does: the registry protocol's versions and
 * download answers, the mirror's {version}.json, and both zips through the
 * signed URLs those answers carry, so every object of the scope is cached.
 * A refusal is retried (up to 100 times per path) and counted: a request
 * with the token that joined a tokenless load used to get its 401.
 */
export async function cacheWithToken(base: string, type: string, token: string): Promise<{ refusals: number }> {
  const auth = `Bearer ${token}`;
  const agent = new http.Agent({ keepAlive: false });
  let refusals = 0;
  const must = async (path: string, authorization?: string): Promise<Buffer> => {
    for (let attempt = 0; ; attempt++) {
      const r = await get(agent, base, path, authorization);
      if (r.status === 200) return r.body;
      refusals++;
      if (attempt >= 100) throw new Error(`${path} with the token answered ${r.status}: ${r.body.toString('utf8').slice(0, 200)}`);
    }
  };
  await must(`/v1/providers/${RACE_HOST}/acme/${type}/versions`, auth);
  const d = JSON.parse((await must(`/v1/providers/${RACE_HOST}/acme/${type}/1.0.0/download/linux/amd64`, auth)).toString('utf8')) as Record<string, string>;
  for (const k of ['download_url', 'shasums_url']) {
    const u = new URL(d[k] ?? '');
    await must(u.pathname + u.search);
  }
  await must(`/v1/mirror/${RACE_HOST}/acme/${type}/index.json`, auth);
  const doc = JSON.parse((await must(`/v1/mirror/${RACE_HOST}/acme/${type}/1.0.0.json`, auth)).toString('utf8')) as { archives: Record<string, { url: string }> };
  await must(`/v1/mirror/${RACE_HOST}/acme/${type}/${doc.archives.linux_amd64?.url ?? ''}`);
  agent.destroy();
  return { refusals };
}

/** Publishes `count` private providers acme/secret0… with `token`. */
export async function addPrivateProviders(origin: OriginRegistry, count: number, token: string): Promise<string[]> {
  const types: string[] = [];
  for (let i = 0; i < count; i++) {
    const type = `secret${i}`;
    await origin.addProvider({ namespace: 'acme', type, versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }], token });
    types.push(type);
  }
  return types;
}
