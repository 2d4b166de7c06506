/**
 * Decoder for S3's `aws-chunked` content encoding, used by SigV4 streaming
 * uploads (x-amz-content-sha256: STREAMING-…) and by checksum trailers.
 * Frames are `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n`, ended by a
 * zero-size frame, optional trailer lines and an empty line. Signatures are
 * not verified; framing errors fail the stream so the request is rejected.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';

const MAX_LINE = 4096;

/** Whether a request body is aws-chunked framed. */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const sha = headers['x-amz-content-sha256'];
  const enc = headers['content-encoding'];
  return (typeof sha === 'string' && sha.startsWith('STREAMING-')) || (typeof enc === 'string' && enc.split(',').some((e) => e.trim() === 'aws-chunked'));
}

/** A Transform that strips aws-chunked framing and emits the payload bytes. */
export function createAwsChunkedDecoder(): Transform {
  let state: 'header' | 'data' | 'data-end' | 'trailer' | 'done' = 'header';
  let line = '';
  let remaining = 0;
  let crlf = 0;

  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      let i = 0;
      try {
        while (i < chunk.length) {
          if (state === 'data') {
            const n = Math.min(remaining, chunk.length - i);
            this.push(chunk.subarray(i, i + n));
            remaining -= n;
            i += n;
            if (remaining === 0) {
              state = 'data-end';
              crlf = 0;
            }
            continue;
          }
          if (state === 'data-end') {
            const expected = crlf === 0 ? 0x0d : 0x0a;
            if (chunk[i] !== expected) throw new Error('aws-chunked: missing CRLF after chunk data');
            i++;
            crlf++;
            if (crlf === 2) state = 'header';
            continue;
          }
          if (state === 'done') {
            if (chunk.subarray(i).some((b) => b !== 0x0d && b !== 0x0a)) throw new Error('aws-chunked: bytes after the final frame');
            i = chunk.length;
            continue;
          }
          // header or trailer: read one CRLF-terminated line
          const nl = chunk.indexOf(0x0a, i);
          const end = nl === -1 ? chunk.length : nl + 1;
          line += chunk.subarray(i, end).toString('latin1');
          i = end;
          if (line.length > MAX_LINE) throw new Error('aws-chunked: header line too long');
          if (nl === -1) continue;
          const text = line.replace(/\r?\n$/, '');
          line = '';
          if (state === 'header') {
            const size = Number.parseInt(text.split(';')[0] ?? '', 16);
            if (!Number.isInteger(size) || size < 0) throw new Error('aws-chunked: bad chunk size');
            if (size === 0) state = 'trailer';
            else {
              remaining = size;
              state = 'data';
            }
          } else if (text === '') {
            state = 'done';
          }
        }
      } catch (err) {
        cb(err as Error);
        return;
      }
      cb();
    },
    flush(cb: TransformCallback) {
      // Some clients end right after the zero-size frame's trailers without the final empty line.
      if (state === 'done' || (state === 'trailer' && line === '')) cb();
      else cb(new Error('aws-chunked: body ended inside a frame'));
    },
  });
}
