/**
 * Composed `index.json` / `{version}.json` answers of public providers,
 * built once and reused (`cache.derived`) until an object of this mode's
 * namespace changes in this process, or for at most a second (what other
 * replicas changed); the server may replay a reused answer to the same
 * request while its stamp holds. A private provider's answer is composed
 * for every request: it depends on the client's credential and carries
 * expiring signed URLs. Privacy is read from the store on every call, and
 * an answer built from anything private is never reused.
 */
import type { Access } from '../../access/access.js';
import type { Cache } from '../../core/cache.js';
import type { BodyAnswer } from '../mirror.js';

/** Longest reuse of a composed answer. */
const MEMO_MS = 1000;

/** A composed answer and whether anything it was built from is private. */
export interface Composed {
  answer: BodyAnswer;
  private: boolean;
}

/** The answer for `scope`, reused under `key` while it is public. */
export async function publicAnswer(deps: { access: Access; cache: Pick<Cache, 'derived' | 'derivedStamp'> }, scope: string, key: string, build: () => Promise<Composed>): Promise<BodyAnswer> {
  if (await deps.access.isPrivate(scope)) return (await build()).answer;
  // Memo keys live in the namespace of what they are built from (`provider-mirror/`).
  const memoKey = `${scope} ${key}`;
  let built = false;
  const answer = await deps.cache.derived(memoKey, MEMO_MS, async () => {
    built = true;
    const composed = await build();
    const cacheable = !composed.private && !(await deps.access.isPrivate(scope));
    return { value: composed.answer, cost: composed.answer.body.length, cacheable };
  });
  const reuse = deps.cache.derivedStamp(memoKey, MEMO_MS);
  const out = built ? answer : { ...answer, result: 'hit' as const };
  return reuse ? { ...out, reuse } : out;
}
