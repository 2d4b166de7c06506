/**
 * Headless Chromium for the status page tests: Debian's `chromium` driven
 * by playwright-core (no browser download). A missing browser fails the
 * test loudly instead of skipping it, so CI cannot pass without looking.
 */
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where Debian's package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Chromium; fails with how to get it when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    assert.fail(`${CHROMIUM_PATH} not found: the status page browser test needs Debian's chromium package, which .ci/run installs (apt-get install -y chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

/** An opened page and every console error or page error it produced. */
export interface OpenedPage {
  page: Page;
  problems: string[];
}

/** Opens `url` in a fresh context (HTTPS errors ignored for self-signed servers) and waits for the load. */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const res = await page.goto(url, { waitUntil: 'load' });
  assert.equal(res?.status(), 200, `GET ${url} in Chromium`);
  return { page, problems };
}

/** Writes a full-page screenshot under the OS temp dir (kept for people to look at) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'regcache-status-')), name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The text content of the element with this id (fails when it is missing). */
export async function textOf(page: Page, id: string): Promise<string> {
  const text = await page.locator(`#${id}`).textContent();
  assert.ok(text !== null, `#${id} is on the page`);
  return text;
}
