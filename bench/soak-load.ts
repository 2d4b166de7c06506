/**
 * The soak's load generator, run as its own process (`node soak-load.js
 * PLAN.json`) so its CPU and memory are not regcache's and its pauses do
 * not hide regcache's. Warm workers loop over cached zips (GET, HEAD,
 * Range) and metadata; one cold worker purges a provider version through
 * the admin API and pulls its zips again with several concurrent clients,
 * so fills, single-flight and stale-while-revalidate run the whole time.
 * Every body is checked (zip sha256, Range slices, JSON shape); anything
 * unexpected is a failure. Progress and the final tally go to stdout as
 * `SOAKLOAD {json}` lines.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

/** One zip the soak knows the bytes of. */
export interface PlanZip {
  path: string;
  sha256: string;
  size: number;
}

/** What the parent tells the load generator. */
export interface LoadPlan {
  url: string;
  seconds: number;
  warmWorkers: number;
  coldFanout: number;
  adminToken: string;
  hot: PlanZip[];
  metadata: string[];
  cold: Array<{ purge: string; zips: PlanZip[] }>;
}

/** Running totals. */
export interface LoadTally {
  requests: number;
  failures: number;
  bytes: number;
  byOp: Record<string, number>;
  coldCycles: number;
  failureSamples: string[];
}

interface Answer {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) reject(new Error('response cut'));
        else resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers });
      });
    });
    req.setTimeout(120_000, () => req.destroy(new Error('no answer within 120 s')));
    req.on('error', reject);
    req.end();
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Runs the plan until its time is up; resolves with the tally. */
export async function runLoad(plan: LoadPlan, onProgress: (t: LoadTally) => void): Promise<LoadTally> {
  const tally: LoadTally = { requests: 0, failures: 0, bytes: 0, byOp: {}, coldCycles: 0, failureSamples: [] };
  const until = Date.now() + plan.seconds * 1000;
  let n = 0;

  async function op(name: string, run: () => Promise<Answer>, check: (a: Answer) => string | undefined): Promise<void> {
    tally.requests++;
    tally.byOp[name] = (tally.byOp[name] ?? 0) + 1;
    let problem: string | undefined;
    try {
      const a = await run();
      tally.bytes += a.body.length;
      problem = check(a);
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem !== undefined) {
      tally.failures++;
      if (tally.failureSamples.length < 20) tally.failureSamples.push(`${name}: ${problem}`);
    }
  }

  const zipCheck = (z: PlanZip) => (a: Answer): string | undefined =>
    a.status !== 200 ? `${z.path} → ${a.status} ${a.body.toString('utf8').slice(0, 120)}` : sha(a.body) !== z.sha256 ? `${z.path}: wrong sha256` : undefined;

  async function warmOnce(): Promise<void> {
    const i = n++;
    const z = plan.hot[Math.floor(i / 10) % plan.hot.length];
    if (z === undefined) return;
    const url = `${plan.url}${z.path}`;
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        return op('zip', () => request(url), zipCheck(z));
      case 4:
        return op('head', () => request(url, 'HEAD'), (a) => (a.status !== 200 || a.headers['content-length'] !== String(z.size) ? `HEAD ${z.path} → ${a.status}` : undefined));
      case 5: {
        const start = i % Math.max(1, z.size - 100);
        return op('range', () => request(url, 'GET', { range: `bytes=${start}-${start + 99}` }), (a) =>
          a.status !== 206 || a.body.length !== 100 ? `range ${z.path} → ${a.status} (${a.body.length} bytes)` : undefined,
        );
      }
      default: {
        const path = plan.metadata[i % plan.metadata.length] ?? '/health';
        return op('metadata', () => request(`${plan.url}${path}`), (a) => {
          if (a.status !== 200) return `${path} → ${a.status} ${a.body.toString('utf8').slice(0, 120)}`;
          try {
            JSON.parse(a.body.toString('utf8'));
            return undefined;
          } catch {
            return `${path}: not JSON`;
          }
        });
      }
    }
  }

  async function coldOnce(cycle: number): Promise<void> {
    const c = plan.cold[cycle % plan.cold.length];
    if (c === undefined) return;
    await op('purge', () => request(`${plan.url}${c.purge}`, 'DELETE', { authorization: `Bearer ${plan.adminToken}` }), (a) => (a.status !== 200 ? `purge → ${a.status}` : undefined));
    const pulls = c.zips.flatMap((z) => Array.from({ length: plan.coldFanout }, () => op('cold-zip', () => request(`${plan.url}${z.path}`), zipCheck(z))));
    await Promise.all(pulls);
    tally.coldCycles++;
  }

  const warmWorker = async (): Promise<void> => {
    while (Date.now() < until) await warmOnce();
  };
  const coldWorker = async (): Promise<void> => {
    for (let cycle = 0; Date.now() < until; cycle++) await coldOnce(cycle);
  };
  const timer = setInterval(() => onProgress(tally), 5_000);
  try {
    await Promise.all([...Array.from({ length: plan.warmWorkers }, warmWorker), coldWorker()]);
  } finally {
    clearInterval(timer);
    agent.destroy();
  }
  return tally;
}

const planFile = process.argv[2];
if (planFile !== undefined && process.argv[1]?.endsWith('soak-load.js')) {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as LoadPlan;
  const final = await runLoad(plan, (t) => console.log(`SOAKLOAD ${JSON.stringify({ ...t, done: false })}`));
  console.log(`SOAKLOAD ${JSON.stringify({ ...final, done: true })}`);
}
