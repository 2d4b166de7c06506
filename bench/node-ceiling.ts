/**
 * What Node.js itself does on this machine, without regcache: a bare
 * node:http server (one process, no logging, no routing) answering a fixed
 * 150-byte JSON body and streaming a 50 MB file with fs.createReadStream,
 * under the same wrk load as scenarios 1 and 2. It bounds what any
 * single-process Node server can reach here, so the gap to nginx splits
 * into "Node" and "regcache".
 *
 *   npm run build && node dist/bench/node-ceiling.js
 *
 * Prints a Markdown table; the figures quoted in BENCHMARKS.md came from it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareWrk, runWrk, type WrkResult } from './support/wrk.js';

const SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const [file, chunk] = [process.argv[1], Number(process.argv[2])];
const json = Buffer.from(JSON.stringify({ versions: Object.fromEntries(Array.from({ length: 8 }, (_, i) => ['1.' + i + '.0', {}])) }).padEnd(150, ' '));
const size = fs.statSync(file).size;
const server = http.createServer((req, res) => {
  if (req.url === '/file') {
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(size) });
    fs.createReadStream(file, { highWaterMark: chunk }).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(json.length) });
  res.end(json);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

async function startServer(file: string, chunk: number): Promise<{ port: number; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER, file, String(chunk)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { port, pid: child.pid ?? 0, stop: () => child.kill('SIGKILL') };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'regcache-node-ceiling-'));
  try {
    await prepareWrk(dir);
    const file = join(dir, 'file.bin');
    await writeFile(file, randomBytes(50_000_000));
    const rows: string[] = ['| Workload | Read chunk | Conc | req/s | MB/s | p99 ms | server CPU |', '| --- | --- | --- | --- | --- | --- | --- |'];
    const row = (what: string, chunk: string, r: WrkResult): void => {
      rows.push(`| ${what} | ${chunk} | ${r.connections} | ${r.reqPerSec.toFixed(0)} | ${r.mbPerSec.toFixed(0)} | ${r.p99Ms.toFixed(2)} | ${r.serverCpu.toFixed(0)}% |`);
      process.stderr.write(`${rows.at(-1) ?? ''}\n`);
    };
    for (const chunk of [64 * 1024, 512 * 1024]) {
      const s = await startServer(file, chunk);
      try {
        const base = `http://127.0.0.1:${s.port}`;
        const opts = { timeoutSec: 60, serverPids: () => [s.pid] };
        if (chunk === 64 * 1024) row('JSON 150 B', '—', await runWrk({ url: `${base}/json`, connections: 16, durationSec: 5, ...opts }));
        for (const c of [1, 16]) row('file 50 MB', `${chunk / 1024} KiB`, await runWrk({ url: `${base}/file`, connections: c, durationSec: 7, ...opts }));
      } finally {
        s.stop();
      }
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
