/**
 * Reads a PEP 503 project page (HTML) into the normalized index with
 * htmlparser2 (no regular expressions over HTML): every `<a>` is a file,
 * its href resolved against the page URL (or a `<base href>`), its
 * `#sha256=` fragment, `data-requires-python`, `data-yanked` and
 * `data-core-metadata` / `data-dist-info-metadata` (PEP 658 / 714) kept.
 * Attribute values arrive with entities decoded.
 */
import { Parser } from 'htmlparser2';
import { addFile, originUrl, sha256Of, type IndexFile, type ProjectIndex } from './index-doc.js';

/** The `<hash>=<hex>` value of a fragment or a metadata attribute, when it names sha256. */
function sha256Field(value: string): string | undefined {
  const eq = value.indexOf('=');
  return eq > 0 && value.slice(0, eq).toLowerCase() === 'sha256' ? sha256Of(value.slice(eq + 1)) : undefined;
}

/** The last path component of a URL, decoded (undefined when it cannot be). */
function lastComponent(url: string): string | undefined {
  const path = new URL(url).pathname;
  try {
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  } catch {
    return undefined;
  }
}

function entryOf(attrs: Readonly<Record<string, string>>, anchorText: string, base: string): IndexFile | undefined {
  const href = attrs.href;
  if (href === undefined) return undefined;
  const url = originUrl(href, base);
  if (url === undefined) return undefined;
  const hash = href.includes('#') ? href.slice(href.indexOf('#') + 1) : '';
  const filename = anchorText.trim() || lastComponent(url);
  if (filename === undefined) return undefined;
  const entry: IndexFile = { filename, url };
  const sha256 = sha256Field(hash);
  if (sha256 !== undefined) entry.sha256 = sha256;
  const rp = attrs['data-requires-python'];
  if (rp !== undefined && rp.length <= 1024) entry.requiresPython = rp;
  const yanked = attrs['data-yanked'];
  if (yanked !== undefined) entry.yanked = yanked === '' || yanked.length > 1024 ? true : yanked;
  const cm = attrs['data-core-metadata'] ?? attrs['data-dist-info-metadata'];
  if (cm !== undefined && cm !== 'false') entry.coreMetadata = sha256Field(cm) ?? true;
  return entry;
}

/** Reads a PEP 503 project page. */
export function fromSimpleHtml(html: string, project: string, finalUrl: string): ProjectIndex {
  let base = finalUrl;
  const files: IndexFile[] = [];
  const seen = new Set<string>();
  let anchor: { attrs: Record<string, string>; text: string } | undefined;
  let full = false;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'base' && attrs.href !== undefined) base = originUrl(attrs.href, finalUrl) ?? base;
        if (name === 'a') anchor = { attrs, text: '' };
      },
      ontext(text) {
        if (anchor && anchor.text.length < 512) anchor.text += text;
      },
      onclosetag(name) {
        if (name !== 'a' || !anchor || full) return;
        const entry = entryOf(anchor.attrs, anchor.text, base);
        anchor = undefined;
        if (entry && !addFile(files, seen, entry)) full = true;
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return { name: project, files };
}
