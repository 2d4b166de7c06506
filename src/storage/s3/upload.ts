/**
 * Uploads one spool file as one S3 object: a single PutObject up to the part
 * size, else a multipart upload whose parts stream from the spool file.
 *
 * The metadata must be known when the upload starts (S3 takes user metadata
 * at PutObject / CreateMultipartUpload, not at Complete), so the upload runs
 * at commit; the object then appears with its metadata in one step.
 *
 * Bodies are file streams, which the SDK never retries (a consumed stream
 * cannot be replayed), so parts and small PUTs are retried here, each
 * attempt with a fresh stream; memory stays at the streams' buffers.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createReadStream, type ReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isNoSuchUpload, isRetryable } from './s3-errors.js';

/** S3's smallest non-final part. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;
const PART_CONCURRENCY = 4;
const ATTEMPTS = 3;

/** What to upload where. */
export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  path: string;
  size: number;
  contentType: string;
  metadata: Record<string, string>;
  partSize: number;
  signal: AbortSignal;
}

/** One object upload; `finish` may be called again after it failed (e.g. unconditionally after a 412). */
export interface SpoolUpload {
  /** Makes the object visible; with `ifNoneMatch` only if the key does not exist yet. */
  finish(ifNoneMatch: boolean): Promise<void>;
  /** Aborts an unfinished multipart upload; idempotent, never throws. */
  cleanup(): Promise<void>;
}

/** Picks single PUT or multipart by size. */
export function createSpoolUpload(t: UploadTarget): SpoolUpload {
  return t.size <= t.partSize ? singlePut(t) : multipart(t);
}

async function withRetry<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= ATTEMPTS || signal.aborted || !isRetryable(err)) throw err;
      await sleep(100 * 2 ** attempt * (0.5 + Math.random()), undefined, { signal });
    }
  }
}

/** A fresh stream over [start, end] of the spool; an empty body for an empty range. */
function fileBody(path: string, start: number, end: number): ReadStream | Uint8Array {
  return end < start ? new Uint8Array(0) : createReadStream(path, { start, end, highWaterMark: 1024 * 1024 });
}

async function withBody<T>(path: string, start: number, end: number, fn: (body: ReadStream | Uint8Array) => Promise<T>): Promise<T> {
  const body = fileBody(path, start, end);
  try {
    return await fn(body);
  } finally {
    if (!(body instanceof Uint8Array)) body.destroy();
  }
}

function singlePut(t: UploadTarget): SpoolUpload {
  return {
    async finish(ifNoneMatch) {
      await withRetry(t.signal, () =>
        withBody(t.path, 0, t.size - 1, (Body) =>
          t.client.send(
            new PutObjectCommand({
              Bucket: t.bucket,
              Key: t.key,
              Body,
              ContentLength: t.size,
              ContentType: t.contentType,
              Metadata: t.metadata,
              ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
            }),
            { abortSignal: t.signal },
          ),
        ),
      );
    },
    async cleanup() {},
  };
}

async function uploadParts(t: UploadTarget, uploadId: string, partSize: number): Promise<CompletedPart[]> {
  const count = Math.ceil(t.size / partSize);
  const parts: CompletedPart[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const i = next++;
      const start = i * partSize;
      const end = Math.min(t.size, start + partSize) - 1;
      try {
        const out = await withRetry(t.signal, () =>
          withBody(t.path, start, end, (Body) =>
            t.client.send(
              new UploadPartCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId, PartNumber: i + 1, Body, ContentLength: end - start + 1 }),
              { abortSignal: t.signal },
            ),
          ),
        );
        if (!out.ETag) throw new Error('UploadPart answered without an ETag');
        parts[i] = { PartNumber: i + 1, ETag: out.ETag };
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  // Settle every worker before reporting, so no part is still in flight when the caller aborts the upload.
  const results = await Promise.allSettled(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, worker));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return parts;
}

function multipart(t: UploadTarget): SpoolUpload {
  const partSize = Math.max(t.partSize, Math.ceil(t.size / MAX_PARTS));
  let open: { uploadId: string; parts: CompletedPart[] } | undefined;
  let pendingId: string | undefined;

  const begin = async (): Promise<{ uploadId: string; parts: CompletedPart[] }> => {
    const created = await t.client.send(
      new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, ContentType: t.contentType, Metadata: t.metadata }),
      { abortSignal: t.signal },
    );
    if (!created.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
    pendingId = created.UploadId;
    const parts = await uploadParts(t, created.UploadId, partSize);
    open = { uploadId: created.UploadId, parts };
    return open;
  };

  const complete = async (u: { uploadId: string; parts: CompletedPart[] }, ifNoneMatch: boolean): Promise<void> => {
    await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: t.bucket,
        Key: t.key,
        UploadId: u.uploadId,
        MultipartUpload: { Parts: u.parts },
        ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      }),
      { abortSignal: t.signal },
    );
    open = undefined;
    pendingId = undefined;
  };

  return {
    async finish(ifNoneMatch) {
      const reused = open;
      if (!reused) return complete(await begin(), ifNoneMatch);
      try {
        await complete(reused, ifNoneMatch);
      } catch (err) {
        // Some servers end the upload when a conditional Complete fails: upload again.
        if (!isNoSuchUpload(err)) throw err;
        open = undefined;
        pendingId = undefined;
        await complete(await begin(), ifNoneMatch);
      }
    },
    async cleanup() {
      const id = pendingId;
      open = undefined;
      pendingId = undefined;
      if (id === undefined) return;
      await t.client.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: id })).catch(() => undefined);
    },
  };
}
