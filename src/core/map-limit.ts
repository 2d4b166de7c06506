/**
 * Bounded parallel map: upstream fan-out (per-platform answers) must be
 * parallel to answer within client timeouts, and bounded to stay polite.
 * Keeps input order; the first rejection rejects the whole map.
 */

/** Maps `items` with at most `limit` calls of `fn` running at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
