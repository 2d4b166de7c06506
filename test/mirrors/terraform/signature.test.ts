import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readSignature } from 'openpgp';
import { RegcacheError } from '../../../src/core/errors.js';
import { verifyShasumsSignature } from '../../../src/mirrors/terraform/signature.js';
import { generateSigningKey, makeShasums, signDetached } from '../../support/provider-fixtures.js';
import type { SigningKey } from '../../support/provider-fixtures.js';

function invalid(err: unknown): boolean {
  return err instanceof RegcacheError && err.code === 'ERR_SIGNATURE_INVALID';
}

void describe('verifyShasumsSignature', () => {
  let key: SigningKey;
  let other: SigningKey;
  let data: Uint8Array;
  let signature: Uint8Array;

  before(async () => {
    [key, other] = await Promise.all([generateSigningKey(), generateSigningKey()]);
    data = Buffer.from(
      makeShasums([
        { filename: 'terraform-provider-x_1.0.0_linux_amd64.zip', bytes: Buffer.from('linux') },
        { filename: 'terraform-provider-x_1.0.0_darwin_arm64.zip', bytes: Buffer.from('darwin') },
      ]),
    );
    signature = await signDetached(data, key.armoredPrivateKey);
  });

  void it('accepts a binary detached signature and names the key', async () => {
    const result = await verifyShasumsSignature(data, signature, [key.armoredPublicKey]);
    assert.match(result.keyId, /^[0-9A-F]{16}$/);
    assert.equal(result.keyId, key.keyId);
  });

  void it('accepts an ASCII-armored signature', async () => {
    const armored = (await readSignature({ binarySignature: signature })).armor();
    const result = await verifyShasumsSignature(data, Buffer.from(armored), [key.armoredPublicKey]);
    assert.equal(result.keyId, key.keyId);
  });

  void it('finds the signing key among several', async () => {
    const result = await verifyShasumsSignature(data, signature, [other.armoredPublicKey, key.armoredPublicKey]);
    assert.equal(result.keyId, key.keyId);
  });

  void it('rejects tampered data', async () => {
    const tampered = Buffer.from(data);
    tampered[0] = (tampered[0] ?? 0) ^ 0x01;
    await assert.rejects(verifyShasumsSignature(tampered, signature, [key.armoredPublicKey]), invalid);
  });

  void it('rejects a signature from a key that is not listed', async () => {
    await assert.rejects(verifyShasumsSignature(data, signature, [other.armoredPublicKey]), invalid);
  });

  void it('rejects a garbage signature', async () => {
    await assert.rejects(verifyShasumsSignature(data, Buffer.from('not a signature'), [key.armoredPublicKey]), invalid);
    await assert.rejects(verifyShasumsSignature(data, new Uint8Array(0), [key.armoredPublicKey]), invalid);
  });

  void it('rejects an empty key list', async () => {
    await assert.rejects(verifyShasumsSignature(data, signature, []), invalid);
  });

  void it('skips a key that does not parse when another does', async () => {
    const result = await verifyShasumsSignature(data, signature, ['garbage key', key.armoredPublicKey]);
    assert.equal(result.keyId, key.keyId);
  });

  void it('rejects when no key parses', async () => {
    await assert.rejects(verifyShasumsSignature(data, signature, ['garbage key', '']), invalid);
  });
});
