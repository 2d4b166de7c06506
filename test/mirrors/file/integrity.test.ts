/**
 * Reading an upstream's integrity claims: RFC 9530 Repr-Digest /
 * Content-Digest, RFC 3230 Digest, X-Checksum-Sha256; representation
 * digests ignored under a content coding; unreadable values count as absent;
 * a finished body that disagrees is refused.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../../src/core/errors.js';
import { announcedBy, checkAnnounced } from '../../../src/mirrors/file/integrity.js';

const body = Buffer.from('the file\n');
const hex = (alg: string): string => createHash(alg).update(body).digest('hex');
const b64 = (alg: string): string => createHash(alg).update(body).digest('base64');
const summary = { sha256: hex('sha256'), size: body.length, digests: { sha256: hex('sha256'), sha512: hex('sha512') } };

void describe('file integrity claims', () => {
  void it('reads every supported header form', () => {
    assert.deepEqual(announcedBy({ 'repr-digest': `sha-256=:${b64('sha256')}:, sha-512=:${b64('sha512')}:` }, 9).digests, { sha256: [hex('sha256')], sha512: [hex('sha512')] });
    assert.deepEqual(announcedBy({ digest: `MD5=abc, SHA-256=${b64('sha256')}` }, 9).digests, { sha256: [hex('sha256')] });
    assert.deepEqual(announcedBy({ 'x-checksum-sha256': hex('sha256').toUpperCase() }, 9).digests, { sha256: [hex('sha256')] });
    assert.deepEqual(announcedBy({ 'content-digest': `sha-256=:${b64('sha256')}:`, 'content-encoding': 'gzip', 'repr-digest': 'sha-256=:AAAA:' }, 9).digests, { sha256: [hex('sha256')] });
  });

  void it('ignores representation digests under a content coding, and values it cannot read', () => {
    assert.deepEqual(announcedBy({ 'repr-digest': `sha-256=:${b64('sha256')}:`, 'content-encoding': 'gzip' }, 9).digests, {});
    assert.deepEqual(announcedBy({ 'repr-digest': 'sha-256=:bm90IGEgZGlnZXN0:', digest: 'sha-256=???' }, 9).digests, {});
  });

  void it('accepts a body matching every claim and refuses one that does not', () => {
    checkAnnounced(announcedBy({ 'repr-digest': `sha-512=:${b64('sha512')}:`, 'x-checksum-sha256': hex('sha256') }, 9), summary);
    const wrong = createHash('sha256').update('other').digest('base64');
    assert.throws(() => checkAnnounced(announcedBy({ 'repr-digest': `sha-256=:${wrong}:` }, 9), summary), (e: unknown) => e instanceof RegcacheError && e.code === 'ERR_INTEGRITY_MISMATCH');
    assert.throws(() => checkAnnounced(announcedBy({}, 10), summary), (e: unknown) => e instanceof RegcacheError && e.code === 'ERR_UPSTREAM_BAD_RESPONSE');
    const noSha512 = { ...summary, digests: { sha256: summary.sha256 } };
    assert.throws(() => checkAnnounced(announcedBy({ 'repr-digest': `sha-512=:${b64('sha512')}:` }, 9), noSha512), /not computed/);
  });
});
