/**
 * Verifies the detached OpenPGP signature over a provider's SHA256SUMS, the
 * root of trust for every provider archive we cache. Anything short of a
 * good signature by one of the registry-announced keys is a hard failure.
 */
import type { Key, KeyID, Signature } from 'openpgp';
import { RegcacheError } from '../../core/errors.js';

const ARMOR_HEADER = '-----BEGIN PGP SIGNATURE-----';

/** Which key signed; the primary key id, as Terraform reports it. */
export interface SignatureResult {
  /** 16 uppercase hex digits. */
  readonly keyId: string;
}

/**
 * Checks `signature` (binary, or ASCII-armored) over the exact SHA256SUMS
 * bytes against the ASCII-armored public keys the registry lists for the
 * provider. Keys that do not parse are skipped while at least one parses,
 * so one broken key in a registry answer cannot block the good ones.
 */
export async function verifyShasumsSignature(
  data: Uint8Array,
  signature: Uint8Array,
  armoredKeys: string[],
): Promise<SignatureResult> {
  if (armoredKeys.length === 0) throw invalid('no signing keys');
  const { createMessage, verify } = await openpgp();
  const keys = await parseKeys(armoredKeys);
  const parsedSignature = await parseSignature(signature);

  let result;
  try {
    const message = await createMessage({ binary: data });
    result = await verify({ message, signature: parsedSignature, verificationKeys: keys, format: 'binary' });
  } catch (err) {
    throw invalid('signature could not be checked', err);
  }
  if (result.signatures.length === 0) throw invalid('signature has no signature packets');

  let knownIssuer = false;
  let lastError: unknown;
  for (const sig of result.signatures) {
    const signer = keys.find((key) => key.getKeys(sig.keyID).length > 0);
    if (signer === undefined) continue;
    knownIssuer = true;
    try {
      await sig.verified;
      return { keyId: primaryKeyId(signer) };
    } catch (err) {
      lastError = err;
    }
  }
  if (!knownIssuer) throw invalid('signed by none of the signing keys');
  throw invalid('signature does not match SHA256SUMS', lastError);
}

/** openpgp is large; it is loaded on the first signature check, not at start-up. */
const openpgp = (): Promise<typeof import('openpgp')> => import('openpgp');

async function parseKeys(armoredKeys: string[]): Promise<Key[]> {
  const { readKeys } = await openpgp();
  const keys: Key[] = [];
  let lastError: unknown;
  for (const armoredKey of armoredKeys) {
    try {
      keys.push(...(await readKeys({ armoredKeys: armoredKey })));
    } catch (err) {
      lastError = err;
    }
  }
  if (keys.length === 0) throw invalid('no signing key could be parsed', lastError);
  return keys;
}

async function parseSignature(signature: Uint8Array): Promise<Signature> {
  const { readSignature } = await openpgp();
  try {
    if (isArmored(signature)) {
      return await readSignature({ armoredSignature: new TextDecoder().decode(signature) });
    }
    return await readSignature({ binarySignature: signature });
  } catch (err) {
    throw invalid('signature could not be parsed', err);
  }
}

function isArmored(signature: Uint8Array): boolean {
  const head = Buffer.from(signature.subarray(0, 256)).toString('latin1').trimStart();
  return head.startsWith(ARMOR_HEADER);
}

function primaryKeyId(key: Key): string {
  const id: KeyID = key.getKeyID();
  return id.toHex().toUpperCase();
}

function invalid(reason: string, cause?: unknown): RegcacheError {
  return new RegcacheError('ERR_SIGNATURE_INVALID', reason, cause === undefined ? {} : { cause });
}
