/**
 * Reads a whole stream into one Buffer, refusing more than a cap: a small
 * answer (an index, a manifest, a module archive to repack) read whole
 * before it is parsed. Past the cap the stream is destroyed and `tooLarge()`
 * is thrown; a known size is checked before any byte is read.
 */
import type { Readable } from 'node:stream';
import type { RegcacheError } from './errors.js';

export async function readCapped(body: Readable | undefined, maxBytes: number, tooLarge: () => RegcacheError, knownSize?: number): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  if (knownSize !== undefined && knownSize > maxBytes) {
    body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
