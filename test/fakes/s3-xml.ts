/**
 * The few S3 XML documents the fake server reads and writes, built by hand:
 * the shapes are small and fixed, and a real XML library would be one more
 * dependency for tests only.
 */

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Escapes text for XML element content. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function xmlUnescape(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x([0-9a-fA-F]+);/g, (_m, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&');
}

const el = (name: string, value: string | number | boolean): string => `<${name}>${xmlEscape(String(value))}</${name}>`;

/** An S3 error document. */
export function errorXml(code: string, message: string, resource: string, requestId: string): string {
  return `${HEAD}<Error>${el('Code', code)}${el('Message', message)}${el('Resource', resource)}${el('RequestId', requestId)}</Error>`;
}

/** One entry of a ListObjectsV2 answer. */
export interface ListEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/** The ListObjectsV2 answer. */
export function listV2Xml(r: {
  bucket: string;
  prefix: string;
  maxKeys: number;
  entries: readonly ListEntry[];
  truncated: boolean;
  token: string | undefined;
  nextToken: string | undefined;
  startAfter: string | undefined;
  urlEncode: boolean;
}): string {
  const enc = (s: string): string => (r.urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const contents = r.entries
    .map((e) =>
      [
        '<Contents>',
        el('Key', enc(e.key)),
        el('LastModified', e.lastModified.toISOString()),
        el('ETag', e.etag),
        el('Size', e.size),
        el('StorageClass', 'STANDARD'),
        '</Contents>',
      ].join(''),
    )
    .join('');
  return [
    HEAD,
    `<ListBucketResult xmlns="${NS}">`,
    el('Name', r.bucket),
    el('Prefix', enc(r.prefix)),
    el('KeyCount', r.entries.length),
    el('MaxKeys', r.maxKeys),
    el('IsTruncated', r.truncated),
    r.urlEncode ? el('EncodingType', 'url') : '',
    r.token === undefined ? '' : el('ContinuationToken', r.token),
    r.nextToken === undefined ? '' : el('NextContinuationToken', r.nextToken),
    r.startAfter === undefined ? '' : el('StartAfter', enc(r.startAfter)),
    contents,
    '</ListBucketResult>',
  ].join('');
}

/** The CreateMultipartUpload answer. */
export function initiateXml(bucket: string, key: string, uploadId: string): string {
  return `${HEAD}<InitiateMultipartUploadResult xmlns="${NS}">${el('Bucket', bucket)}${el('Key', key)}${el('UploadId', uploadId)}</InitiateMultipartUploadResult>`;
}

/** The CompleteMultipartUpload answer. */
export function completeXml(location: string, bucket: string, key: string, etag: string): string {
  return `${HEAD}<CompleteMultipartUploadResult xmlns="${NS}">${el('Location', location)}${el('Bucket', bucket)}${el('Key', key)}${el('ETag', etag)}</CompleteMultipartUploadResult>`;
}

/** Parts named in a CompleteMultipartUpload request, in document order; undefined when malformed. */
export function parseCompleteParts(xml: string): Array<{ partNumber: number; etag: string }> | undefined {
  if (!/<CompleteMultipartUpload[\s>]/.test(xml)) return undefined;
  const parts: Array<{ partNumber: number; etag: string }> = [];
  for (const m of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const body = m[1] ?? '';
    const num = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(body)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(body)?.[1];
    if (num === undefined || etag === undefined) return undefined;
    parts.push({ partNumber: Number(num), etag: xmlUnescape(etag.trim()) });
  }
  return parts;
}
