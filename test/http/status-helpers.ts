/**
 * Helpers for the status page tests: reading snippets out of the served
 * HTML, the snippets expected for a base URL, and an HTTPS client that
 * trusts only regcache's self-signed CA.
 */
import assert from 'node:assert/strict';
import https from 'node:https';

const DECODE: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The decoded text of `<pre id="…">` in a page. */
export function preText(page: string, id: string): string {
  const m = new RegExp(`<pre id="${id}">([\\s\\S]*?)</pre>`).exec(page);
  assert.ok(m?.[1] !== undefined, `<pre id="${id}"> is on the page`);
  return m[1].replace(/&(amp|lt|gt|quot|#39);/g, (e) => DECODE[e] ?? e);
}

/** The network mirror snippet expected for `base`. */
export const mirrorSnippet = (base: string): string => `provider_installation {\n  network_mirror {\n    url = "${base}/v1/mirror/"\n  }\n}`;
/** The credentials snippet expected for a host[:port]. */
export const credentialsSnippet = (hostPort: string): string => `credentials "${hostPort}" {\n  token = "…"\n}`;

/** Asserts one `host` block per registry, each pointing at `base`. */
export function assertHostBlocks(text: string, base: string, registries: readonly string[]): void {
  for (const host of registries) {
    assert.equal(text.split(`host "${host}" {`).length, 2, `exactly one host block for ${host}`);
    assert.ok(text.includes(`"providers.v1" = "${base}/v1/providers/${host}/"`), `providers.v1 of ${host}`);
    assert.ok(text.includes(`"modules.v1"   = "${base}/v1/modules/${host}/"`), `modules.v1 of ${host}`);
  }
}

/** An HTTPS answer. */
export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTPS request trusting only `ca`. */
export function httpsGet(url: string, ca: string, method = 'GET'): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
