/**
 * Background jobs started through the admin API (cache warming): an id to
 * poll, progress counters and the first errors. Only the latest jobs are
 * kept; jobs run on their own, independent of the request that started them.
 */
import { randomUUID } from 'node:crypto';

/** A job's visible state. */
export interface JobState {
  id: string;
  kind: string;
  state: 'running' | 'done' | 'failed';
  total: number;
  done: number;
  failed: number;
  errors: string[];
  startedAt: string;
  finishedAt?: string;
}

/** Progress reporting handed to a job body. */
export interface JobProgress {
  addTotal(n: number): void;
  succeeded(): void;
  failedOne(message: string): void;
}

/** The job registry. */
export interface Jobs {
  start(kind: string, body: (p: JobProgress) => Promise<void>): JobState;
  get(id: string): JobState | undefined;
  /** Resolves when every running job settled (shutdown, tests). */
  idle(): Promise<void>;
}

const KEEP = 50;
const MAX_ERRORS = 20;

/** Creates an in-memory job registry. */
export function createJobs(): Jobs {
  const jobs = new Map<string, JobState>();
  const running = new Set<Promise<void>>();
  return {
    start(kind, body) {
      const job: JobState = { id: randomUUID(), kind, state: 'running', total: 0, done: 0, failed: 0, errors: [], startedAt: new Date().toISOString() };
      jobs.set(job.id, job);
      for (const id of jobs.keys()) {
        if (jobs.size <= KEEP) break;
        jobs.delete(id);
      }
      const progress: JobProgress = {
        addTotal: (n) => void (job.total += n),
        succeeded: () => void job.done++,
        failedOne: (m) => {
          job.failed++;
          if (job.errors.length < MAX_ERRORS) job.errors.push(m);
        },
      };
      const p = body(progress).then(
        () => {
          job.state = job.failed > 0 ? 'failed' : 'done';
        },
        (err: unknown) => {
          job.state = 'failed';
          if (job.errors.length < MAX_ERRORS) job.errors.push(err instanceof Error ? err.message : String(err));
        },
      );
      const tracked = p.finally(() => {
        job.finishedAt = new Date().toISOString();
        running.delete(tracked);
      });
      running.add(tracked);
      return job;
    },
    get: (id) => jobs.get(id),
    async idle() {
      await Promise.allSettled([...running]);
    },
  };
}
