/**
 * The status page as one server-rendered HTML string: plain templates and a
 * few lines of inline CSS, no scripts and no external assets, so it works
 * offline, behind any proxy and under a strict Content-Security-Policy.
 */
import { createHash } from 'node:crypto';
import type { Counters, StatsSnapshot } from '../ops/stats.js';
import type { Usage } from '../ops/usage.js';
import { formatBytes, formatCount, formatDuration, formatRatio, formatTime, html, SafeHtml } from './status-html.js';
import { RECENT_LIMIT, type RecentList } from './status-recent.js';
import type { StatusSection } from '../mirrors/mode.js';

/** One instance's section as rendered. */
export interface RenderedSection extends StatusSection {
  instance: string;
  mode: string;
}

/** Everything the page shows. */
export interface StatusView {
  version: string;
  now: number;
  stats: StatsSnapshot;
  storeKind: string;
  usage: Usage;
  /** From the last store scan; undefined when no scan succeeded yet. */
  recent: RecentList | undefined;
  baseUrl: string;
  sections: readonly RenderedSection[];
  /** Fetching and trusting the self-signed CA; undefined without one. */
  ca: string | undefined;
  /** SHA-256 fingerprint of the self-signed CA, when there is one. */
  caFingerprint: string | undefined;
}

const CSS = `
:root{color-scheme:light dark;--fg:#1d2127;--muted:#5f6873;--bg:#fff;--panel:#f5f7f9;--line:#dde2e7;--accent:#4f46c8}
@media (prefers-color-scheme:dark){:root{--fg:#e5e8eb;--muted:#9aa3ad;--bg:#121519;--panel:#1b2026;--line:#2d343c;--accent:#a29cff}}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:60rem;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{margin:0;font-size:1.7rem}h2{font-size:1.15rem;margin:2.2rem 0 .7rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:1.4rem 0 .3rem}p{margin:.3rem 0 .6rem}a{color:var(--accent)}.muted{color:var(--muted);font-weight:normal}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1.5rem;margin:0}dt{color:var(--muted)}dd{margin:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre,code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}code{background:var(--panel);padding:.05rem .3rem;border-radius:4px}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem;overflow-x:auto;margin:.4rem 0 .8rem}
footer{margin-top:2.5rem;color:var(--muted);font-size:.9rem}
`.trim();

/** A trusted constant: inside <style> entities would not be decoded, so it must not be escaped. */
const TRUSTED_CSS = new SafeHtml(CSS);

/** The `style-src` source for the inline stylesheet (no 'unsafe-inline' needed). */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

function countersRow(label: string, cell: (c: Counters) => string, s: StatsSnapshot): SafeHtml {
  return html`<tr><th scope="row">${label}</th><td class="n">${cell(s.sinceStart)}</td><td class="n">${cell(s.total)}</td></tr>`;
}

function ratioOf(c: Counters): number | undefined {
  const served = c.hits + c.misses + c.stale;
  return served === 0 ? undefined : (c.hits + c.stale) / served;
}

function statsSection(s: StatsSnapshot): SafeHtml {
  return html`<section id="stats"><h2>Cache</h2>
<table><thead><tr><th></th><th class="n">Since start</th><th class="n">All time <span class="muted">(since ${formatTime(s.total.since)})</span></th></tr></thead>
<tbody>
<tr><th scope="row">Hit rate</th><td class="n" id="hit-rate">${formatRatio(s.hitRatio)}</td><td class="n" id="hit-rate-total">${formatRatio(ratioOf(s.total))}</td></tr>
${countersRow('Bytes saved (served from cache)', (c) => formatBytes(c.bytesFromCache), s)}
${countersRow('Fetched from upstream', (c) => formatBytes(c.bytesFetched), s)}
${countersRow('Served in total', (c) => formatBytes(c.bytesServed), s)}
${countersRow('Requests', (c) => formatCount(c.requests), s)}
${countersRow('Hits / stale / misses', (c) => `${formatCount(c.hits)} / ${formatCount(c.stale)} / ${formatCount(c.misses)}`, s)}
${countersRow('Errors', (c) => formatCount(c.errors), s)}
</tbody></table></section>`;
}

function ago(now: number, iso: string): string {
  return `${formatDuration(now - Date.parse(iso))} ago`;
}

function recentSection(v: StatusView): SafeHtml {
  const body =
    v.recent === undefined
      ? html`<p class="muted">The store could not be listed yet.</p>`
      : v.recent.items.length === 0
        ? html`<p class="muted" id="recent-empty">Nothing cached yet.</p>`
        : html`<table id="recent"><thead><tr><th>Instance</th><th>Kind</th><th>Name</th><th>Version</th><th>Platforms</th><th class="n">Size</th><th class="n">Cached</th></tr></thead><tbody>
${v.recent.items.map(
  (r) =>
    html`<tr><td>${r.instance}</td><td>${r.kind}</td><td><code>${r.name}</code></td><td>${r.version}</td><td>${r.platforms.join(', ') || '–'}</td><td class="n">${formatBytes(r.size)}</td><td class="n" title="${formatTime(r.storedAt)}">${ago(v.now, r.storedAt)}</td></tr>\n`,
)}</tbody></table>`;
  const asOf = v.recent === undefined ? '' : `, as of the store scan ${formatDuration(v.now - v.recent.at)} ago`;
  return html`<section id="recent-section"><h2>Recently cached</h2><p class="muted">Newest first, up to ${RECENT_LIMIT}${asOf}.</p>${body}</section>`;
}

function clientSection(v: StatusView): SafeHtml {
  const ca =
    v.ca === undefined
      ? ''
      : html`<h3>Trust the CA</h3>
<p>regcache uses a self-signed certificate. Download the CA: <a id="ca-link" href="${v.baseUrl}/ca.pem" download="regcache-ca.pem">ca.pem</a>${v.caFingerprint === undefined ? '' : html`, SHA-256 fingerprint <code id="ca-fingerprint">${v.caFingerprint}</code>`}. Then point your clients at it:</p>
<pre id="snippet-ca">${v.ca}</pre>
<p class="muted"><code>SSL_CERT_FILE</code> replaces the system bundle for that process; to keep public roots too, append <code>ca.pem</code> to a copy of your bundle. On macOS add it to the keychain instead.</p>`;
  const used = new Set<string>();
  const sections = v.sections.map((sec) => {
    const snippets = sec.snippets.map((sn) => {
      // The first instance's snippets keep the short ids (snippet-mirror); later ones are prefixed.
      const id = used.has(sn.id) ? `snippet-${sec.instance}-${sn.id}` : `snippet-${sn.id}`;
      used.add(sn.id);
      return html`<h4>${sn.label}</h4>${sn.note === undefined ? '' : html`<p class="muted">${sn.note}</p>`}<pre id="${id}">${sn.text}</pre>`;
    });
    return html`<section class="instance" id="instance-${sec.instance}"><h3>${sec.title} <span class="muted">${sec.instance} · ${sec.mode}</span></h3>
<p>URL: <code>${sec.url}</code>${sec.upstreams.length === 0 ? '' : html` · upstreams ${sec.upstreams.map((h, i) => html`${i > 0 ? ', ' : ''}<code>${h}</code>`)}`}</p>
${snippets}</section>`;
  });
  return html`<section id="client"><h2>Client configuration</h2>
<p>Base URL: <code id="base-url">${v.baseUrl}</code></p>
${ca}
${sections}
</section>`;
}

/** Renders the whole page. */
export function renderStatusPage(v: StatusView): string {
  const up = v.now - Date.parse(v.stats.startedAt);
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>regcache ${v.version}</title><link rel="icon" href="data:,"><style>${TRUSTED_CSS}</style></head>
<body><main>
<header><h1>regcache <span class="muted" id="version">${v.version}</span></h1>
<p class="muted">Caching pull-through mirror for package registries</p></header>
<section id="overview"><h2>Status</h2><dl>
<dt>Uptime</dt><dd id="uptime">${formatDuration(up)} <span class="muted">(since ${formatTime(v.stats.startedAt)})</span></dd>
<dt>Storage</dt><dd id="storage">${v.storeKind}</dd>
<dt>Cached</dt><dd id="usage">${v.usage.scannedAt === 0 ? 'not scanned yet' : `${formatCount(v.usage.objects)} objects, ${formatBytes(v.usage.bytes)}`}</dd>
<dt>Instances</dt><dd id="instances">${v.sections.map((sec, i) => html`${i > 0 ? ', ' : ''}<code>${sec.instance}</code> (${sec.mode})`)}</dd>
<dt>Upstreams</dt><dd id="registries">${[...new Set(v.sections.flatMap((sec) => sec.upstreams))].map((h, i) => html`${i > 0 ? ', ' : ''}<code>${h}</code>`)}</dd>
</dl></section>
${statsSection(v.stats)}
${recentSection(v)}
${clientSection(v)}
<footer><a href="${v.baseUrl}/health">health</a> · <a href="${v.baseUrl}/ready">readiness</a></footer>
</main></body></html>
`;
  return page.value;
}
