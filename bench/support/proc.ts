/**
 * Reads a process's memory and CPU use from /proc, so the report can say
 * how much memory regcache needed and whether a run was CPU-bound (a Node
 * main thread near 100% of one core) without any agent inside the process.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** Resident set size now and its high-water mark, in MB (10^6 bytes). */
export interface MemorySample {
  rssMb: number;
  hwmMb: number;
}

function statusField(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m?.[1] === undefined ? Number.NaN : (Number(m[1]) * 1024) / 1e6;
}

/** VmRSS and VmHWM of `pid`; NaN when the process is gone. */
export function memoryOf(pid: number): MemorySample {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssMb: statusField(text, 'VmRSS'), hwmMb: statusField(text, 'VmHWM') };
  } catch {
    return { rssMb: Number.NaN, hwmMb: Number.NaN };
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0, needs root or the same user); false when refused. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** utime + stime of a stat line, in seconds. */
function cpuSecondsOf(statPath: string): number {
  try {
    const text = readFileSync(statPath, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Direct children of `pid` (nginx workers of a master). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // raced with an exiting process
    }
  }
  return out;
}

/** CPU seconds used so far per pid (all threads), and by the main thread of the first pid. */
export interface CpuReading {
  perPid: Map<number, number>;
  mainThread: number;
  at: number;
}

/** Takes a CPU reading of a process group (e.g. [regcachePid] or [nginxMaster, ...workers]). */
export function readCpu(pids: readonly number[]): CpuReading {
  const perPid = new Map<number, number>();
  for (const pid of pids) perPid.set(pid, cpuSecondsOf(`/proc/${pid}/stat`));
  const first = pids[0];
  const mainThread = first === undefined ? Number.NaN : cpuSecondsOf(`/proc/${first}/task/${first}/stat`);
  return { perPid, mainThread, at: performance.now() };
}

/** CPU use between two readings, as % of one core; pids missing from either reading (exited helpers) are left out. */
export function cpuPercent(a: CpuReading, b: CpuReading): { total: number; mainThread: number } {
  const wall = (b.at - a.at) / 1000;
  if (wall <= 0 || a.perPid.size === 0) return { total: Number.NaN, mainThread: Number.NaN };
  let used = 0;
  for (const [pid, before] of a.perPid) {
    const after = b.perPid.get(pid);
    if (after !== undefined && Number.isFinite(before) && Number.isFinite(after)) used += after - before;
  }
  return { total: (used / wall) * 100, mainThread: ((b.mainThread - a.mainThread) / wall) * 100 };
}

/** Samples VmRSS every `everyMs` until stopped; returns the largest value seen (MB). */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = memoryOf(pid).rssMb;
  const timer = setInterval(() => {
    const r = memoryOf(pid).rssMb;
    if (Number.isFinite(r) && !(r <= peak)) peak = r;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const r = memoryOf(pid).rssMb;
      return Number.isFinite(r) && r > peak ? r : peak;
    },
  };
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Cumulative CPU ticks the hypervisor stole from this VM, and all ticks (/proc/stat, all cores). */
export function stealTicks(): { steal: number; total: number } {
  try {
    const v = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    return { steal: v[7] ?? 0, total: v.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return { steal: Number.NaN, total: Number.NaN };
  }
}

/**
 * Machine-wide CPU use over `ms` while the benchmark itself is idle, in % of
 * all cores: other work on a shared machine skews every figure, so the
 * report states how busy the machine was before each scenario.
 */
export async function backgroundCpu(ms = 1000): Promise<number> {
  try {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, ms));
    const b = machineTicks();
    return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
