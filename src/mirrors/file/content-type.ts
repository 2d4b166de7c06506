/**
 * The Content-Type a file is served with, from its name: known at once
 * (a cold download's answer starts before the upstream's headers arrive in
 * every process that follows it) and the same under every policy. Types a
 * browser would run (HTML, SVG, JavaScript) are served as plain bytes:
 * regcache hands out files, it does not host pages.
 */

const BY_EXTENSION: Readonly<Record<string, string>> = {
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  xz: 'application/x-xz',
  bz2: 'application/x-bzip2',
  zst: 'application/zstd',
  '7z': 'application/x-7z-compressed',
  jar: 'application/java-archive',
  whl: 'application/zip',
  deb: 'application/vnd.debian.binary-package',
  rpm: 'application/x-rpm',
  dmg: 'application/x-apple-diskimage',
  iso: 'application/x-iso9660-image',
  pdf: 'application/pdf',
  json: 'application/json',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  txt: 'text/plain; charset=utf-8',
  md: 'text/plain; charset=utf-8',
  asc: 'text/plain; charset=utf-8',
  sha256: 'text/plain; charset=utf-8',
  sha512: 'text/plain; charset=utf-8',
  sha256sum: 'text/plain; charset=utf-8',
  sha512sum: 'text/plain; charset=utf-8',
  sig: 'application/pgp-signature',
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
};

/** The type for a file path ("releases/tool.tar.gz" → application/gzip); unknown → application/octet-stream. */
export function contentTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return BY_EXTENSION[name.slice(dot + 1)] ?? 'application/octet-stream';
}
