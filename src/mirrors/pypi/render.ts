/**
 * A stored project index as the client asked for it: PEP 503 HTML or
 * PEP 691 JSON, chosen from the Accept header (q-values honoured, HTML
 * when nothing matches), with every file link pointing at this server.
 * Links keep the `#sha256=` fragment, requires-python, yanked and, when
 * `proxy_core_metadata` is on, the core-metadata advertisement (both the
 * PEP 714 and the older PEP 658 name); when it is off, the advertisement
 * is left out, since pip fails an install whose advertised sidecar is
 * missing.
 */
import type { IndexFile, ProjectIndex } from './index-doc.js';

/** The representations served. */
export type Representation = 'json' | 'html-v1' | 'html';

/** The content type each representation is answered with. */
export const CONTENT_TYPES: Record<Representation, string> = {
  json: 'application/vnd.pypi.simple.v1+json',
  'html-v1': 'application/vnd.pypi.simple.v1+html',
  html: 'text/html; charset=utf-8',
};

const TYPES: Record<string, Representation> = {
  'application/vnd.pypi.simple.v1+json': 'json',
  'application/vnd.pypi.simple.latest+json': 'json',
  'application/vnd.pypi.simple.v1+html': 'html-v1',
  'application/vnd.pypi.simple.latest+html': 'html-v1',
  'text/html': 'html',
  'text/*': 'html',
  'application/*': 'html',
  '*/*': 'html',
};

/** Server preference among equal q-values. */
const RANK: Record<Representation, number> = { json: 3, 'html-v1': 2, html: 1 };

/** Picks the representation for an Accept header; JSON only when `json` is served. */
export function negotiate(accept: string | undefined, json: boolean): Representation {
  if (accept === undefined || accept.length > 4096) return 'html';
  let best: { rep: Representation; q: number } | undefined;
  for (const part of accept.split(',').slice(0, 64)) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const rep = TYPES[type];
    if (rep === undefined || (rep === 'json' && !json)) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q <= 0 || q > 1) continue;
    if (!best || q > best.q || (q === best.q && RANK[rep] > RANK[best.rep])) best = { rep, q };
  }
  return best?.rep ?? 'html';
}

/** Escapes text for an HTML attribute value or element content. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Where this server serves a project's files (no trailing slash). */
export function filesBase(serverUrl: string, project: string): string {
  return `${serverUrl}/files/${encodeURIComponent(project)}`;
}

function fileUrl(base: string, f: IndexFile): string {
  return `${base}/${encodeURIComponent(f.filename)}`;
}

function htmlAnchor(base: string, f: IndexFile, coreMetadata: boolean): string {
  let attrs = ` href="${esc(fileUrl(base, f) + (f.sha256 !== undefined ? `#sha256=${f.sha256}` : ''))}"`;
  if (f.requiresPython !== undefined) attrs += ` data-requires-python="${esc(f.requiresPython)}"`;
  if (f.yanked !== undefined) attrs += ` data-yanked="${f.yanked === true ? '' : esc(f.yanked)}"`;
  if (coreMetadata && f.coreMetadata !== undefined) {
    const value = f.coreMetadata === true ? 'true' : `sha256=${f.coreMetadata}`;
    attrs += ` data-core-metadata="${value}" data-dist-info-metadata="${value}"`;
  }
  return `<a${attrs}>${esc(f.filename)}</a><br/>`;
}

/** PEP 503 HTML. */
export function renderHtml(index: ProjectIndex, serverUrl: string, coreMetadata: boolean): string {
  const base = filesBase(serverUrl, index.name);
  const title = `Links for ${esc(index.name)}`;
  const links = index.files.map((f) => htmlAnchor(base, f, coreMetadata)).join('\n');
  return `<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" content="1.0">\n<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n${links}\n</body>\n</html>\n`;
}

/** PEP 691 JSON. */
export function renderJson(index: ProjectIndex, serverUrl: string, coreMetadata: boolean): string {
  const base = filesBase(serverUrl, index.name);
  const files = index.files.map((f) => {
    const out: Record<string, unknown> = { filename: f.filename, url: fileUrl(base, f), hashes: f.sha256 !== undefined ? { sha256: f.sha256 } : {} };
    if (f.requiresPython !== undefined) out['requires-python'] = f.requiresPython;
    if (f.yanked !== undefined) out.yanked = f.yanked;
    if (coreMetadata && f.coreMetadata !== undefined) {
      const value = f.coreMetadata === true ? true : { sha256: f.coreMetadata };
      out['core-metadata'] = value;
      out['dist-info-metadata'] = value;
    }
    if (f.size !== undefined) out.size = f.size;
    if (f.uploadTime !== undefined) out['upload-time'] = f.uploadTime;
    return out;
  });
  const doc: Record<string, unknown> = { meta: { 'api-version': '1.0' }, name: index.name, files };
  if (index.versions) doc.versions = index.versions;
  return JSON.stringify(doc);
}
