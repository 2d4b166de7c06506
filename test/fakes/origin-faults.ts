/**
 * The fake origin's run-time fault table. Each fault carries a "released"
 * promise so requests parked by `hang`/`hangBody` resume when a test clears
 * the fault, instead of leaking until the origin stops.
 */
import type { Fault, PathMatcher } from './origin-types.js';

/** A fault as installed, with the promise that resolves when it is removed. */
export interface ActiveFault {
  fault: Fault;
  released: Promise<void>;
}

/** Faults by path matcher; the first installed match wins. */
export interface FaultTable {
  set(match: string | RegExp, fault: Fault | undefined): void;
  clear(): void;
  find(path: string): ActiveFault | undefined;
}

interface Entry extends ActiveFault {
  match: string | RegExp;
  release: () => void;
}

/** True when `path` is selected by `matcher` (string = substring). */
export function matchesPath(matcher: PathMatcher, path: string): boolean {
  if (typeof matcher === 'string') return path.includes(matcher);
  if (typeof matcher === 'function') return matcher(path);
  matcher.lastIndex = 0;
  return matcher.test(path);
}

function sameMatch(a: string | RegExp, b: string | RegExp): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.source === b.source && a.flags === b.flags;
}

/** Creates an empty fault table. */
export function createFaultTable(): FaultTable {
  let entries: Entry[] = [];

  return {
    set(match, fault) {
      const kept: Entry[] = [];
      for (const e of entries) {
        if (sameMatch(e.match, match)) e.release();
        else kept.push(e);
      }
      entries = kept;
      if (fault === undefined) return;
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      entries.push({ match, fault: { ...fault }, released, release });
    },

    clear() {
      for (const e of entries) e.release();
      entries = [];
    },

    find(path) {
      return entries.find((e) => matchesPath(e.match, path));
    },
  };
}
