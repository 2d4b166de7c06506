/**
 * A bare Node.js server for scenario 2's bound: node:http or node:https, no
 * routing, logging or metrics, answering each path with fixed bytes (the
 * same bodies and headers regcache sends) or streaming a file the plain
 * Node way (fs.createReadStream piped to the response). With `workers: 2` it runs under
 * node:cluster (the primary accepts and hands connections round-robin, the
 * Linux default), which is what a multi-process Node server would get. It
 * measures what Node itself reaches on this machine next to nginx, in the
 * same run (scenarios 1 and 2).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_NICENESS, exited, stopChild, track } from './children.js';

const SERVER = `
const cluster = require('node:cluster');
const fs = require('node:fs');
const os = require('node:os');
const spec = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
try { os.setPriority(spec.niceness); } catch {}
if (cluster.isPrimary && spec.workers > 1) {
  // Workers must share one fixed port (port 0 in a worker would give each its own): take a free one.
  const probe = require('node:net').createServer().listen(0, '127.0.0.1', () => {
    const port = probe.address().port;
    probe.close(() => {
      let ready = 0;
      for (let i = 0; i < spec.workers; i++) {
        cluster.fork({ BARE_PORT: String(port) }).on('listening', () => { if (++ready === spec.workers) process.stdout.write(port + '\\n'); });
      }
    });
  });
} else {
  const bodies = new Map(Object.entries(spec.bodies).map(([p, b64]) => [p, Buffer.from(b64, 'base64')]));
  const files = new Map(Object.entries(spec.files).map(([p, f]) => [p, { file: f, size: fs.statSync(f).size }]));
  const handler = (req, res) => {
    const f = files.get(req.url);
    if (f !== undefined) {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(f.size), 'cache-control': 'public, max-age=31536000, immutable' });
      fs.createReadStream(f.file, { highWaterMark: 256 * 1024 }).pipe(res);
      return;
    }
    const body = bodies.get(req.url);
    if (body === undefined) { res.writeHead(404, { 'content-length': '0' }); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), 'cache-control': 'no-cache' });
    res.end(body);
  };
  const opts = { keepAliveTimeout: 65000 };
  const server = spec.tls ? require('node:https').createServer({ ...opts, cert: fs.readFileSync(spec.tls.cert), key: fs.readFileSync(spec.tls.key) }, handler) : require('node:http').createServer(opts, handler);
  server.listen(Number(process.env.BARE_PORT ?? 0), '127.0.0.1', () => { if (!cluster.isWorker) process.stdout.write(server.address().port + '\\n'); });
}
`;

/** What to start. */
export interface BareNodeSpec {
  /** Scratch directory for the spec file. */
  dir: string;
  name: string;
  workers: 1 | 2;
  tls?: { cert: string; key: string };
  /** Request path → body. */
  bodies?: Map<string, Buffer>;
  /** Request path → file streamed with fs.createReadStream in 256 KiB reads (regcache's read size). */
  files?: Map<string, string>;
}

/** A running bare server. */
export interface BareNode {
  url: string;
  /** The primary first, then its workers. */
  pids(): number[];
  stop(): Promise<void>;
}

/** Starts the server and resolves once it listens. */
export async function startBareNode(spec: BareNodeSpec): Promise<BareNode> {
  const specFile = join(spec.dir, `${spec.name}.json`);
  const bodies = Object.fromEntries([...(spec.bodies ?? [])].map(([p, b]) => [p, b.toString('base64')]));
  const files = Object.fromEntries(spec.files ?? []);
  await writeFile(specFile, JSON.stringify({ workers: spec.workers, tls: spec.tls, bodies, files, niceness: BENCH_NICENESS }));
  const child = track(spawn(process.execPath, ['-e', SERVER, specFile], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const [line] = (await Promise.race([once(child.stdout!, 'data'), exited(child).then((code) => Promise.reject(new Error(`bare node server exited with ${code}`)))])) as [Buffer];
  const url = `${spec.tls ? 'https' : 'http'}://127.0.0.1:${Number(line.toString().trim())}`;
  const pid = child.pid ?? 0;
  return {
    url,
    pids: () => [pid, ...childPids(pid)],
    stop: () => stopChild(child, 'SIGKILL'),
  };
}

/** Direct children of `pid` (the cluster's workers), from /proc. */
function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** The bare Node sides of a scenario round: one process and two. */
export type BareSide = 'node1' | 'node2';

/** Whether a side of a round is one of the bare Node servers. */
export const isBareSide = (side: string): side is BareSide => side === 'node1' || side === 'node2';

/** The four bare servers a scenario loads: HTTP and HTTPS, one process and two. */
export interface BareSet {
  get(proto: 'http' | 'https', side: BareSide): BareNode;
  stop(): Promise<void>;
}

/** Starts the four bare servers with the same content; HTTPS uses `tls` (nginx's certificate). */
export async function startBareSet(spec: Omit<BareNodeSpec, 'workers' | 'tls'> & { tls: { cert: string; key: string } }): Promise<BareSet> {
  const started = new Map<string, BareNode>();
  const keyOf = (proto: 'http' | 'https', side: BareSide): string => `${proto} ${side}`;
  const stop = async (): Promise<void> => {
    for (const b of started.values()) await b.stop();
  };
  try {
    for (const proto of ['http', 'https'] as const) {
      for (const side of ['node1', 'node2'] as const) {
        const workers = side === 'node1' ? 1 : 2;
        const { tls, ...content } = spec;
        const b = await startBareNode({ ...content, name: `${spec.name}-${proto}-${workers}`, workers, ...(proto === 'https' ? { tls } : {}) });
        started.set(keyOf(proto, side), b);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    get(proto, side) {
      const b = started.get(keyOf(proto, side));
      if (!b) throw new Error(`no bare Node server for ${proto} ${side}`);
      return b;
    },
    stop,
  };
}
