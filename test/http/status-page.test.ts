/**
 * The status page (`GET /`) and `/ca.pem`: over HTTP against a real
 * in-process regcache, and rendered in headless Chromium (screenshots are
 * kept under the OS temp dir and named in the test output); and the recent
 * list's scan schedule, with a fake clock and a fake usage tracker.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createRecentTracker, recentItems, type RecentList } from '../../src/http/status-recent.js';
import type { UsageTracker } from '../../src/ops/usage.js';
import type { ListedObject } from '../../src/core/store.js';
import type { MountedInstance } from '../../src/mirrors/mode.js';
import { terraformPurgeTarget } from '../../src/mirrors/terraform/admin.js';
import { describeTerraform } from '../../src/mirrors/terraform/listing.js';

/** The Terraform instance as the page sees it (its real describe; nothing here is served). */
const TF: MountedInstance[] = [
  {
    name: 'terraform',
    mode: 'terraform',
    mount: '',
    bind: undefined,
    mirrors: [],
    instance: { mirrors: [], keyPrefixes: ['tf/'], upstreamHosts: [], describe: describeTerraform, purgeTarget: terraformPurgeTarget, status: (url) => ({ title: 'Terraform', url, upstreams: [], snippets: [] }) },
  },
];
import { VERSION } from '../../src/version.js';
import { assertJsonError } from '../integration/http-client.js';
import { startHarness, zipPathOf, type Harness } from '../integration/harness.js';
import { launchChromium, openPage, screenshot, textOf } from './status-browser.js';
import { assertHostBlocks, credentialsSnippet, httpsGet, mirrorSnippet, preText } from './status-helpers.js';

const EXTRA_HOST = 'registry.example.test';
const REGISTRIES = ['registry.terraform.io', 'registry.opentofu.org', EXTRA_HOST];
const PUBLIC_URL = 'https://cache.example.test:8443';

void describe('status page: plain HTTP, one warmed provider', () => {
  let h: Harness;
  let base: string;
  let page: string;

  before(async () => {
    h = await startHarness({
      providers: [{ namespace: 'acme', type: 'widget', versions: [{ version: '1.2.3', platforms: [{ os: 'linux', arch: 'amd64' }] }] }],
      extraUpstreams: [{ host: EXTRA_HOST }],
    });
    base = h.app.url;
    const zip = await h.get(zipPathOf('acme', 'widget', '1.2.3', 'linux', 'amd64'));
    assert.equal(zip.status, 200, `warming the provider: ${zip.body.toString('utf8').slice(0, 200)}`);
    await h.settle();
    const res = await h.get('/');
    assert.equal(res.status, 200);
    assert.ok(res.complete);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    page = res.body.toString('utf8');
  });

  after(async () => {
    await h?.stop();
  });

  void it('shows the version, the store and the warmed provider', () => {
    assert.ok(page.startsWith('<!doctype html>'));
    assert.ok(page.includes(`<span class="muted" id="version">${VERSION}</span>`), 'version');
    assert.match(page, /<dd id="storage">fs<\/dd>/);
    assert.match(page, /<dd id="usage">\d+ objects, [\d.]+ (B|KiB|MiB)<\/dd>/);
    assert.match(page, /<table id="recent">[\s\S]*<code>registry\.terraform\.io\/acme\/widget<\/code><\/td><td>1\.2\.3<\/td><td>linux_amd64<\/td>/);
    assert.match(page, /id="hit-rate">[\d.]+ %</);
  });

  void it('gives copy-paste client configuration for the exact base URL', () => {
    assert.equal(preText(page, 'snippet-mirror'), mirrorSnippet(base));
    assertHostBlocks(preText(page, 'snippet-hosts'), base, REGISTRIES);
    assert.equal(preText(page, 'snippet-credentials'), credentialsSnippet(new URL(base).host));
  });

  void it('points the snippets at endpoints that answer', async () => {
    const path = (u: string): string => new URL(u).pathname;
    const mirrorUrl = /url = "([^"]+)"/.exec(preText(page, 'snippet-mirror'))?.[1] ?? '';
    const versions = await h.get(`${path(mirrorUrl)}registry.terraform.io/acme/widget/index.json`);
    assert.equal(versions.status, 200, versions.body.toString('utf8'));
    const providersUrl = /"providers\.v1" = "([^"]+)"/.exec(preText(page, 'snippet-hosts'))?.[1] ?? '';
    const registry = await h.get(`${path(providersUrl)}acme/widget/versions`);
    assert.equal(registry.status, 200, registry.body.toString('utf8'));
  });

  void it('has no CA link and no /ca.pem without a self-signed CA', async () => {
    assert.ok(!page.includes('ca.pem'), 'no CA link');
    assert.ok(!page.includes('SSL_CERT_FILE'), 'no SSL_CERT_FILE hint');
    assertJsonError(await h.get('/ca.pem'), 404, 'ERR_NOT_FOUND', 'GET /ca.pem');
    const head = await h.get('/ca.pem', { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
  });

  void it('answers HEAD with the headers only', async () => {
    const head = await h.get('/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'text/html; charset=utf-8');
    assert.ok(Number(head.headers['content-length']) > 1000);
    assert.equal(head.body.length, 0);
  });

  void it('sends a strict Content-Security-Policy that still admits its own stylesheet', async () => {
    const res = await h.get('/');
    assert.match(String(res.headers['content-security-policy']), /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  void it('escapes what the request controls (the Host header becomes the base URL)', async () => {
    const res = await h.get('/', { headers: { host: '127.0.0.1:1"><script>alert(1)</script>' } });
    assert.equal(res.status, 200);
    const text = res.body.toString('utf8');
    assert.ok(!/<script/i.test(text), 'no script element');
    assert.ok(text.includes('url = &quot;http://127.0.0.1:1&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;/v1/mirror/&quot;'), 'the hostile base is shown escaped');
  });

  void it('renders in headless Chromium with the snippets and the recent list', async (t) => {
    const browser = await launchChromium();
    try {
      const { page: tab, problems } = await openPage(browser, `${base}/`);
      assert.equal(await tab.title(), `regcache ${VERSION}`);
      assert.equal(await textOf(tab, 'version'), VERSION);
      assert.equal(await textOf(tab, 'snippet-mirror'), mirrorSnippet(base));
      assertHostBlocks(await textOf(tab, 'snippet-hosts'), base, REGISTRIES);
      assert.equal(await textOf(tab, 'snippet-credentials'), credentialsSnippet(new URL(base).host));
      const first = await tab.locator('#recent tbody tr').first().textContent();
      assert.match(first ?? '', /provider\s*registry\.terraform\.io\/acme\/widget\s*1\.2\.3\s*linux_amd64/);
      assert.equal(await tab.locator('#ca-link').count(), 0);
      assert.deepEqual(problems, [], 'no console errors (a CSP violation would show here)');
      t.diagnostic(`screenshot: ${await screenshot(tab, 'status-page-http.png')}`);
    } finally {
      await browser.close();
    }
  });
});

void describe('status page: self-signed TLS and a public URL', () => {
  let dir: string;
  let app: App;
  let caPath: string;
  let caPem: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regcache-status-tls-'));
    const configFile = join(dir, 'regcache.yaml');
    await writeFile(configFile, stringify({ server: { listen: '127.0.0.1:0', publicUrl: PUBLIC_URL, shutdownTimeout: '3s' }, storage: { path: join(dir, 'data') }, log: { level: 'silent' } }));
    app = await startApp(await loadConfig({ file: configFile, env: {}, flags: {} }));
    assert.ok(app.caPath !== undefined, 'self-signed TLS has a CA path');
    caPath = app.caPath;
    caPem = await readFile(caPath, 'utf8');
  });

  after(async () => {
    await app?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void it('links the CA for the public URL and shows its fingerprint and the SSL_CERT_FILE hint', async () => {
    const res = await httpsGet(`${app.url}/`, caPem);
    assert.equal(res.status, 200);
    const page = res.body.toString('utf8');
    assert.ok(page.includes(`<a id="ca-link" href="${PUBLIC_URL}/ca.pem" download="regcache-ca.pem">`), 'CA download link');
    assert.ok(page.includes(`<code id="ca-fingerprint">${new X509Certificate(caPem).fingerprint256}</code>`), 'CA fingerprint');
    assert.match(preText(page, 'snippet-ca'), /^curl -fsSk -o regcache-ca\.pem https:\/\/cache\.example\.test:8443\/ca\.pem\n[\s\S]*\nexport SSL_CERT_FILE="\$PWD\/regcache-ca\.pem"$/);
    assert.equal(preText(page, 'snippet-mirror'), mirrorSnippet(PUBLIC_URL));
    assert.equal(preText(page, 'snippet-credentials'), credentialsSnippet('cache.example.test:8443'));
    assert.ok(page.includes('<p class="muted" id="recent-empty">Nothing cached yet.</p>'), 'empty recent list');
  });

  void it('serves the CA file as application/x-pem-file, also to HEAD', async () => {
    const res = await httpsGet(`${app.url}/ca.pem`, caPem);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-pem-file');
    assert.equal(res.body.toString('utf8'), caPem);
    const head = await httpsGet(`${app.url}/ca.pem`, caPem, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(caPem)));
    assert.equal(head.body.length, 0);
  });

  void it('renders the CA section in headless Chromium', async (t) => {
    const browser = await launchChromium();
    try {
      const { page, problems } = await openPage(browser, `${app.url}/`);
      assert.equal(await page.locator('#ca-link').getAttribute('href'), `${PUBLIC_URL}/ca.pem`);
      assert.match(await textOf(page, 'snippet-ca'), /SSL_CERT_FILE/);
      assert.equal(await textOf(page, 'snippet-mirror'), mirrorSnippet(PUBLIC_URL));
      assert.deepEqual(problems, []);
      t.diagnostic(`screenshot: ${await screenshot(page, 'status-page-tls.png')}`);
    } finally {
      await browser.close();
    }
  });
});

void describe('status page: recent list from store scans', () => {
  const obj = (key: string, size: number, storedAt: number): ListedObject => ({ key, meta: { size, sha256: '', contentType: 'application/octet-stream', storedAt }, lastAccess: storedAt });
  const zip = (type: string, version: string, platform: string, storedAt: number): ListedObject => obj(`tf/providers/registry.terraform.io/acme/${type}/${version}/${platform}/zip`, 100, storedAt);
  const names = (l: RecentList | undefined): string[] => (l?.items ?? []).map((i) => `${i.name}@${i.version}`);
  /** Resolves with 'blocked' when `p` did not settle within the current turn of the event loop. */
  const unlessBlocked = <T>(p: Promise<T>): Promise<T | 'blocked'> => Promise.race([p, new Promise<'blocked'>((resolve) => setImmediate(() => resolve('blocked')))]);

  function fakeUsage(): { usage: UsageTracker; scans: Array<{ resolve: (o: ListedObject[]) => void; reject: (e: Error) => void }> } {
    const scans: Array<{ resolve: (o: ListedObject[]) => void; reject: (e: Error) => void }> = [];
    const usage: UsageTracker = { current: () => ({ objects: 0, bytes: 0, scannedAt: 0 }), scan: () => new Promise((resolve, reject) => scans.push({ resolve, reject })) };
    return { usage, scans };
  }

  void it('lists provider and module versions newest first, one entry per version, at most 20', () => {
    const objects = [
      zip('a', '1.0.0', 'linux_amd64', 1_000),
      zip('a', '1.0.0', 'darwin_arm64', 5_000),
      zip('b', '2.0.0', 'linux_amd64', 3_000),
      obj('tf/modules/registry.terraform.io/acme/net/aws/1.0.0/archive', 50, 4_000),
      obj('tf/providers/registry.terraform.io/acme/a/versions', 10, 9_000),
    ];
    const items = recentItems(TF, objects);
    assert.deepEqual(
      items.map((i) => [i.kind, i.name, i.version, i.platforms.join(' '), i.size]),
      [
        ['provider', 'registry.terraform.io/acme/a', '1.0.0', 'darwin_arm64 linux_amd64', 200],
        ['module', 'registry.terraform.io/acme/net/aws', '1.0.0', '', 50],
        ['provider', 'registry.terraform.io/acme/b', '2.0.0', 'linux_amd64', 100],
      ],
    );
    const many = Array.from({ length: 30 }, (_, i) => zip('c', `1.0.${i}`, 'linux_amd64', i));
    assert.deepEqual(recentItems(TF, many).map((i) => i.version), Array.from({ length: 20 }, (_, i) => `1.0.${29 - i}`));
  });

  void it('waits for the first scan only, then rescans in the background at most once per interval', async () => {
    let now = 1_000_000;
    const { usage, scans } = fakeUsage();
    const recent = createRecentTracker(TF, usage, 60_000, () => now);
    const first = recent();
    assert.equal(scans.length, 1);
    assert.equal(await unlessBlocked(first), 'blocked', 'the first page waits for the first scan');
    scans[0]?.resolve([zip('a', '1.0.0', 'linux_amd64', 1)]);
    assert.deepEqual(names(await first), ['registry.terraform.io/acme/a@1.0.0']);

    now += 59_999;
    assert.deepEqual(names(await recent()), ['registry.terraform.io/acme/a@1.0.0']);
    assert.equal(scans.length, 1, 'no rescan within the interval');

    now += 1;
    const during = await unlessBlocked(recent());
    assert.notEqual(during, 'blocked', 'a due rescan does not hold the page');
    assert.equal(scans.length, 2, 'one background rescan');
    assert.deepEqual(names(during === 'blocked' ? undefined : during), ['registry.terraform.io/acme/a@1.0.0'], 'the last list while rescanning');
    await recent();
    assert.equal(scans.length, 2);

    scans[1]?.resolve([zip('a', '1.0.0', 'linux_amd64', 1), zip('b', '1.0.0', 'linux_amd64', 2)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(names(await recent()), ['registry.terraform.io/acme/b@1.0.0', 'registry.terraform.io/acme/a@1.0.0']);
    assert.equal(scans.length, 2);
  });

  void it('after a failed first scan shows nothing and retries only after the interval', async () => {
    let now = 0;
    const { usage, scans } = fakeUsage();
    const recent = createRecentTracker(TF, usage, 60_000, () => now);
    const first = recent();
    scans[0]?.reject(new Error('store down'));
    assert.equal(await first, undefined);
    now += 30_000;
    assert.equal(await recent(), undefined);
    assert.equal(scans.length, 1);
    now += 30_000;
    const retry = recent();
    assert.equal(scans.length, 2, 'retried after the interval');
    scans[1]?.resolve([]);
    assert.deepEqual(await retry, { items: [], at: now });
  });
});
