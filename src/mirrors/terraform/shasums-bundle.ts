/**
 * A provider version's SHA256SUMS and its detached signature, fetched
 * together and cached as one immutable object only after the signature
 * verified (or, for upstreams configured to allow it, when upstream
 * publishes no signing keys at all). Stored bytes are upstream's, so they
 * can be served byte-identical.
 */
import { RegcacheError } from '../../core/errors.js';
import type { UpstreamClient } from '../../upstream/client.js';
import type { DownloadInfo } from './registry-json.js';
import { parseShasums } from './shasums.js';
import { verifyShasumsSignature } from './signature.js';

const MAX_SUMS = 1024 * 1024;
const MAX_SIG = 64 * 1024;

/** The cached bundle (JSON-serializable). */
export interface ShasumsBundle {
  /** SHA256SUMS bytes, base64. */
  sums: string;
  /** Detached signature bytes, base64; empty when unsigned. */
  sig: string;
  signed: boolean;
  keyId: string | undefined;
  /** filename → lowercase hex sha256, from the verified file. */
  files: Record<string, string>;
}

/** Fetches and verifies the SHA256SUMS named by a download answer. */
export async function loadShasumsBundle(
  client: UpstreamClient,
  from: DownloadInfo,
  allowUnsigned: boolean,
  signal: AbortSignal,
  authFor: (url: string) => Promise<{ authorization?: string }> = () => Promise.resolve({}),
): Promise<ShasumsBundle> {
  const unsigned = from.signingKeys.length === 0;
  if (unsigned && !allowUnsigned) {
    throw new RegcacheError('ERR_SIGNATURE_INVALID', 'upstream publishes no signing keys for this provider (set unsigned: allow for this upstream to accept it)');
  }
  const [sums, sig] = await Promise.all([
    authFor(from.shasumsUrl).then((a) => client.bytes(from.shasumsUrl, MAX_SUMS, { signal, ...a })),
    unsigned
      ? Promise.resolve(undefined)
      : authFor(from.shasumsSignatureUrl).then((a) => client.bytes(from.shasumsSignatureUrl, MAX_SIG, { signal, ...a })).catch((err: unknown) => {
          // A missing file on an object-store CDN is often 403: either way there is no signature to check.
          if (err instanceof RegcacheError && (err.code === 'ERR_UPSTREAM_NOT_FOUND' || err.code === 'ERR_UPSTREAM_UNAUTHORIZED')) {
            throw new RegcacheError('ERR_SIGNATURE_INVALID', 'upstream publishes signing keys but its SHA256SUMS signature file cannot be fetched', { cause: err });
          }
          throw err;
        }),
  ]);
  let keyId: string | undefined;
  if (sig) keyId = (await verifyShasumsSignature(sums.body, sig.body, from.signingKeys)).keyId;
  const files = Object.fromEntries(parseShasums(sums.body.toString('utf8')));
  return { sums: sums.body.toString('base64'), sig: sig ? sig.body.toString('base64') : '', signed: !unsigned, keyId, files };
}

/** The signed checksum for one file, cross-checked with the download answer. */
export function expectedSha256(bundle: ShasumsBundle, info: DownloadInfo): string {
  const listed = bundle.files[info.filename];
  if (!listed) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `SHA256SUMS does not list ${info.filename}`);
  if (listed !== info.shasum) throw new RegcacheError('ERR_INTEGRITY_MISMATCH', `registry shasum for ${info.filename} differs from signed SHA256SUMS`);
  return listed;
}
