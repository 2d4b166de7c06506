/**
 * Hostile request targets and methods, sent verbatim over raw node:http:
 * each must be refused with a 4xx JSON error before any upstream traffic,
 * and the server must stay healthy afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertJsonError, jsonOf } from './http-client.js';
import { HOST, mirrorPathOf, providerKeyOf, startHarness, zipPathOf, type Harness } from './harness.js';

const M = '/v1/mirror';
const ZIP = 'terraform-provider-widget_1.0.0_linux_amd64.zip';

/** [label, target, status, code] */
const TABLE: Array<[string, string, number, string]> = [
  ['unknown host', `${M}/evil.example/a/b/index.json`, 404, 'ERR_UNKNOWN_HOST'],
  ['link-local metadata address', `${M}/169.254.169.254/a/b/index.json`, 404, 'ERR_UNKNOWN_HOST'],
  ['metadata address with port', `${M}/169.254.169.254:80/latest/meta-data/index.json`, 404, 'ERR_UNKNOWN_HOST'],
  ['localhost', `${M}/localhost/a/b/index.json`, 404, 'ERR_UNKNOWN_HOST'],
  ['loopback IPv4', `${M}/127.0.0.1/a/b/index.json`, 404, 'ERR_UNKNOWN_HOST'],
  ['IPv6 loopback', `${M}/[::1]/a/b/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['user-info before an allowed host', `${M}/user@${HOST}/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['encoded user-info', `${M}/user%40${HOST}/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['raw dot-dot traversal', `${M}/${HOST}/../../../etc/passwd`, 400, 'ERR_BAD_REQUEST'],
  ['%2e%2e traversal', `${M}/${HOST}/%2e%2e/%2e%2e/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['%2E%2E traversal in host', `${M}/%2E%2E/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['double-encoded %252e%252e', `${M}/${HOST}/%252e%252e/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['%2f inside a segment', `${M}/${HOST}/acme%2fwidget/x/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['%2F in the host', `${M}/${HOST}%2F..%2F/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['backslash', `${M}/${HOST}/acme\\..\\widget/x/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['%5c backslash', `${M}/${HOST}/acme%5c..%5cwidget/x/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['%00 NUL', `${M}/${HOST}/acme/widget%00/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['%0d%0a header injection', `${M}/${HOST}/acme/widget%0d%0aX-Evil:%201/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['malformed percent-encoding', `${M}/${HOST}/acme/widget%zz/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['overlong segment (300 chars)', `${M}/${HOST}/${'a'.repeat(300)}/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['3000-char URL', `${M}/${HOST}/acme/widget/${'x/'.repeat(1480)}index.json`, 400, 'ERR_BAD_REQUEST'],
  ['3000-char query string', `${M}/${HOST}/acme/widget/index.json?${'q'.repeat(3000)}`, 400, 'ERR_BAD_REQUEST'],
  ['absolute-form target', `http://evil.example${M}/${HOST}/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['namespace with a character outside the alphabet', `${M}/${HOST}/ac$me/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['version 1.0', `${mirrorPathOf('acme', 'widget')}/1.0.json`, 400, 'ERR_BAD_REQUEST'],
  ['version v1.0.0', `${mirrorPathOf('acme', 'widget')}/v1.0.0.json`, 400, 'ERR_BAD_REQUEST'],
  ['version 1.0.0/../x', `${mirrorPathOf('acme', 'widget')}/1.0.0/../x`, 400, 'ERR_BAD_REQUEST'],
  ['zip under version v1.0.0', `${mirrorPathOf('acme', 'widget')}/v1.0.0/linux_amd64/${ZIP}`, 400, 'ERR_BAD_REQUEST'],
  ['platform linux-amd64', `${mirrorPathOf('acme', 'widget')}/1.0.0/linux-amd64/${ZIP}`, 400, 'ERR_BAD_REQUEST'],
  ['platform _amd64', `${mirrorPathOf('acme', 'widget')}/1.0.0/_amd64/${ZIP}`, 400, 'ERR_BAD_REQUEST'],
  ['file name with ..', `${mirrorPathOf('acme', 'widget')}/1.0.0/linux_amd64/..zip`, 400, 'ERR_BAD_REQUEST'],
  ['empty segment', `/v1//mirror/${HOST}/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['single-dot segment', `${M}/./${HOST}/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['homograph host (Cyrillic e, UTF-8 encoded)', `${M}/r%D0%B5gistry.terraform.io/acme/widget/index.json`, 400, 'ERR_BAD_REQUEST'],
  ['too many segments', `${mirrorPathOf('acme', 'widget')}/1.0.0/linux_amd64/${ZIP}/extra`, 404, 'ERR_NOT_FOUND'],
  ['unknown route', '/v1/nothing-here', 404, 'ERR_NOT_FOUND'],
];

void describe('integration: hostile input', () => {
  let h: Harness;
  let indexBody: Buffer;

  before(async () => {
    h = await startHarness({
      providers: [{ namespace: 'acme', type: 'widget', versions: [{ version: '1.0.0', platforms: [{ os: 'linux', arch: 'amd64' }] }] }],
    });
    // Warm the cache so the one allowed oddity (an uppercase host) needs no upstream request either.
    const warm = await h.get(`${mirrorPathOf('acme', 'widget')}/index.json`);
    assert.equal(warm.status, 200);
    indexBody = warm.body;
    assert.equal((await h.get(zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64'))).status, 200);
    await h.settle();
  });

  after(async () => {
    await h?.stop();
  });

  for (const [label, target, status, code] of TABLE) {
    void it(`${label} → ${status} ${code}, zero origin requests`, async () => {
      const before = h.origin.requests.length;
      const res = await h.get(target);
      assertJsonError(res, status, code, label);
      assert.deepEqual(h.origin.requests.slice(before), [], 'no upstream request');
    });
  }

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    void it(`${method} → 405 ERR_METHOD_NOT_ALLOWED, zero origin requests`, async () => {
      const before = h.origin.requests.length;
      for (const target of [`${mirrorPathOf('acme', 'widget')}/index.json`, zipPathOf('acme', 'widget', '1.0.0', 'linux', 'amd64'), '/health']) {
        assertJsonError(await h.get(target, { method }), 405, 'ERR_METHOD_NOT_ALLOWED', `${method} ${target}`);
      }
      assert.deepEqual(h.origin.requests.slice(before), []);
      assert.ok(await h.app.store.stat(`${providerKeyOf('acme', 'widget')}/1.0.0/linux_amd64/zip`), 'DELETE removed nothing');
    });
  }

  void it('an uppercase host is normalised onto the same cache entry (no error, no upstream request)', async () => {
    const before = h.origin.requests.length;
    const upper = await h.get(`${M}/${HOST.toUpperCase()}/acme/widget/index.json`);
    assert.equal(upper.status, 200, upper.body.toString('utf8'));
    assert.ok(upper.body.equals(indexBody), 'same answer as the lowercase host');
    const zip = await h.get(`${M}/${HOST.toUpperCase()}/acme/widget/1.0.0/linux_amd64/${ZIP}`);
    assert.equal(zip.status, 200);
    assert.ok(zip.body.equals(h.origin.zipBytes('acme', 'widget', '1.0.0', 'linux', 'amd64')));
    assert.deepEqual(h.origin.requests.slice(before), [], 'served from the lowercase entry');
    const files = await h.objectFiles();
    assert.deepEqual(files.filter((f) => f.includes(HOST.toUpperCase())), [], 'no separate uppercase cache entry');
  });

  void it('the server stays healthy after the whole table, with no internal errors logged', async () => {
    const health = await h.get('/health');
    assert.equal(health.status, 200);
    assert.deepEqual(jsonOf(health), { status: 'ok' });
    assert.equal((await h.get(`${mirrorPathOf('acme', 'widget')}/index.json`)).status, 200);
    assert.deepEqual(h.logs.filter((l) => typeof l.level === 'number' && l.level >= 50), [], 'no error-level log lines');
    assert.deepEqual(h.logs.filter((l) => l.code === 'ERR_INTERNAL'), []);
    await h.settle();
    assert.deepEqual(await h.tmpEntries(), []);
  });
});
