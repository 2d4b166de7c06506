/**
 * What regcache's start-up time and idle memory are made of: each runtime
 * dependency (and the whole app module graph) imported alone in a fresh
 * Node process, timed and with its RSS afterwards, next to a bare Node
 * start. Explains a slow or heavy start without a profiler.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runCommand } from './children.js';
import { median } from './stats.js';

/** Import cost of one module. */
export interface ModuleCost {
  module: string;
  importMs: number;
  rssMb: number;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const APP = fileURLToPath(new URL('../../src/app.js', import.meta.url));

async function once(specifier: string | undefined): Promise<{ ms: number; rss: number }> {
  const body = specifier === undefined ? '' : `await import(${JSON.stringify(specifier)});`;
  const code = `const t = performance.now(); ${body} console.log(JSON.stringify({ ms: performance.now() - t, rss: process.memoryUsage().rss / 1e6 }));`;
  const r = await runCommand(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, timeoutMs: 60_000 });
  if (r.code !== 0) return { ms: Number.NaN, rss: Number.NaN };
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { ms: number; rss: number };
}

/** Measures bare Node, every dependency in package.json and the app module, `runs` times each (medians). */
export async function moduleCosts(runs: number): Promise<{ bareNodeMs: number; bareRssMb: number; modules: ModuleCost[] }> {
  const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { dependencies?: Record<string, string> };
  const specs: Array<{ label: string; spec: string | undefined }> = [
    { label: '(bare node)', spec: undefined },
    ...Object.keys(pkg.dependencies ?? {}).map((d) => ({ label: d, spec: d })),
    { label: 'dist/src/app.js (everything)', spec: APP },
  ];
  const modules: ModuleCost[] = [];
  let bareNodeMs = Number.NaN;
  let bareRssMb = Number.NaN;
  for (const s of specs) {
    const ms: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const r = await once(s.spec);
      if (s.spec === undefined) ms.push(performance.now() - started);
      else ms.push(r.ms);
      rss.push(r.rss);
    }
    if (s.spec === undefined) {
      bareNodeMs = median(ms);
      bareRssMb = median(rss);
    } else {
      modules.push({ module: s.label, importMs: median(ms), rssMb: median(rss) });
    }
  }
  return { bareNodeMs, bareRssMb, modules };
}
